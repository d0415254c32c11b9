import { after, before } from 'node:test';
import type { DocumentResult } from '../../src/core/records/prediction.js';
import { ingestConfigSchema } from '../../src/image/config.js';
import { ingestImage } from '../../src/image/ingest.js';
import { pipelineConfigSchema } from '../../src/pipeline/config.js';
import { loadDocumentPipeline, type DocumentPipeline } from '../../src/pipeline/document.js';
import { runtimeConfigSchema } from '../../src/runtime/config.js';

/**
 * The document pipeline on its defaults, loaded before a test file's tests and closed after them,
 * and `read`: an image file ingested as uploads are, then read. `pipeline()` is the loaded pipeline.
 */
export function documentReader(): { pipeline: () => DocumentPipeline; read: (image: Buffer) => Promise<DocumentResult> } {
  let reader: DocumentPipeline | undefined;
  before(async () => {
    reader = await loadDocumentPipeline(pipelineConfigSchema.parse({}), runtimeConfigSchema.parse({}));
  });
  after(async () => {
    await reader?.close();
  });
  const pipeline = () => {
    if (reader === undefined) throw new Error('the document reader is loaded in before()');
    return reader;
  };
  return {
    pipeline,
    async read(image) {
      const ingested = await ingestImage(new Uint8Array(image), ingestConfigSchema.parse({}));
      const { result } = await pipeline().read(ingested.frame, { exifOrientation: ingested.exifOrientation });
      return result;
    },
  };
}
