// `server-only` throws outside React's server build; under vitest (Node, no bundler) the lib
// modules that carry it are plain server code, so the marker resolves to this empty module.
export {};
