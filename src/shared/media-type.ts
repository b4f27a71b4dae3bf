// Content types shared by storage (which files are attachments) and http (which responses are pages).

const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/** The media type of a Content-Type value (no parameters), lower-case; null if malformed. */
export function mediaType(value: string | undefined | null): string | null {
  if (!value) return null;
  const type = value.split(';', 1)[0]!.trim().toLowerCase();
  return MIME.test(type) ? type : null;
}

// Types a browser renders as a document that can run script (HTML, SVG, XML with XSLT, XHTML…).
const ACTIVE = /^(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml|[a-z]+\/[a-z0-9.+-]*\+xml|text\/xsl|application\/xslt\+xml|text\/javascript|application\/javascript|application\/ecmascript|text\/ecmascript|application\/x-shockwave-flash|application\/pdf|text\/vtt|multipart\/x-mixed-replace)$/;

/** Whether serving this type inline would let the file act in our origin: then it is an attachment. */
export function isActiveType(type: string): boolean {
  return ACTIVE.test(type);
}
