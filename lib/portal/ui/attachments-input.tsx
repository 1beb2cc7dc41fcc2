export type AttachmentsInputProps = { id: string; name: string; maxFiles: number; maxBytes: number; refusal: string };

// The reply's file input, naming its limits for the page's attachment check (ATTACHMENT_CHECK in
// lib/http/script-free-pages.ts): with JavaScript on, files over them are refused in the page,
// before a long upload that the server would refuse anyway (and the text written beside them is
// kept). Without it, the server's check is the only one.
export function AttachmentsInput({ id, name, maxFiles, maxBytes, refusal }: AttachmentsInputProps) {
  return (
    <input
      id={id}
      name={name}
      type="file"
      multiple
      data-max-files={maxFiles}
      data-max-bytes={maxBytes}
      data-refusal={refusal}
      className="mt-1 block w-full min-h-11"
    />
  );
}
