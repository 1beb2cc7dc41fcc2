import 'server-only';
import { NextResponse } from 'next/server';

// A form post answered the no-JavaScript way: 303 to the page that shows the outcome.
export const seeOther = (location: string) => new NextResponse(null, { status: 303, headers: { Location: location } });
