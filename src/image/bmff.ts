/** Boxes whose payload is more boxes, on the way from the file to the image properties. */
const PATH_TO_PROPERTIES = ['meta', 'iprp', 'ipco'];

/**
 * The sizes the image spatial extent properties (`ispe`, ISO/IEC 23008-12) of an AVIF or HEIF
 * declare, read by walking meta > iprp > ipco. libheif trusts them: a side of 2^31 or more is
 * set on libvips as an out-of-range int (a GLib-CRITICAL, then a 1 x 1 header) before any check
 * of ours could see it, so they are read here first.
 */
export function declaredExtents(bytes: Uint8Array): { width: number; height: number }[] {
  const extents: { width: number; height: number }[] = [];
  walk(bytes, 0, bytes.length, 0, extents);
  return extents;
}

function walk(bytes: Uint8Array, from: number, to: number, depth: number, extents: { width: number; height: number }[]): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = Math.min(to, bytes.length);
  for (let at = from; at + 8 <= end; ) {
    const size = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    // Size 0 runs to the end of the file; 1 is a 64-bit size, which no image header needs.
    const boxEnd = size === 0 ? end : size < 8 ? end : Math.min(at + size, end);
    if (depth < PATH_TO_PROPERTIES.length && type === PATH_TO_PROPERTIES[depth]) {
      // meta is a full box: version and flags come before its children.
      walk(bytes, at + (type === 'meta' ? 12 : 8), boxEnd, depth + 1, extents);
    } else if (depth === PATH_TO_PROPERTIES.length && type === 'ispe' && at + 20 <= boxEnd) {
      extents.push({ width: view.getUint32(at + 12), height: view.getUint32(at + 16) });
    }
    if (size < 8) break;
    at += size;
  }
}
