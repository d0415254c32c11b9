/** What a request may carry as metadata: the X-Visionops-Metadata header or the multipart field `metadata` (docs/api.md). */
export const MAX_METADATA_BYTES = 64 * 1024;

/**
 * All of a request's headers together: the metadata header at its largest, and Node's own default
 * limit (16 KiB) for the rest, so a documented 64 KiB of metadata is not refused by the HTTP parser.
 */
export const MAX_HEADER_BYTES = MAX_METADATA_BYTES + 16 * 1024;
