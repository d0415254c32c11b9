/**
 * INT8 recognition against FP32, and the cascade (INT8 first, FP32 below a confidence): the
 * quantiser calibrates on generated pages, then every variant reads the same unseen pages.
 * Speed: recognition alone, one line at a time, FP32 and INT8 in turn on the same lines.
 * Accuracy: character error rate of whole pages against the text that was rendered.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { loadConfig } from '../src/config/load.js';
import { ingestImage } from '../src/image/ingest.js';
import { loadDocumentPipeline } from '../src/pipeline/document.js';
import { calibrationInputs } from '../src/quantize/calibrate.js';
import { prepareModel } from '../src/quantize/qdq.js';
import { quantizeBuiltin } from '../src/quantize/quantize.js';
import { builtinManifests } from '../src/runtime/builtin.js';
import { characterErrorRate } from '../test/fixtures/documents.js';
import { documentPages, type Benchmark, type Figure } from './lib.js';

export const int8Benchmark: Benchmark = {
  name: 'int8',
  describe: 'INT8 recognition (visionops quantize) vs FP32, and the INT8 -> FP32 cascade, on pages the calibration never saw',
  async run({ quick }) {
    const dir = await mkdtemp(join(tmpdir(), 'visionops-bench-int8-'));
    try {
      const calibrationPages = await documentPages(quick ? 4 : 16, 4000);
      const files = [];
      for (const [i, page] of calibrationPages.entries()) {
        const file = join(dir, `calibration-${i}.jpg`);
        await writeFile(file, page.bytes);
        files.push(file);
      }
      const config = loadConfig({ sets: [`data.dir=${JSON.stringify(dir)}`] });
      const settings = { ingest: config.ingest, pipeline: config.pipeline, runtime: config.runtime };
      const modelsDir = join(dir, 'models');
      const { report, registered } = await quantizeBuiltin({ role: 'recognition', files, holdBackEvery: quick ? 2 : 4, modelsDir, settings });
      const fastModel = `${registered.manifest.id}@${registered.manifest.version}`;

      // Unseen pages: recognition speed on their lines, and each variant's reading of them.
      const evaluation = await documentPages(quick ? 2 : 8, 4500);
      const evaluationFiles = [];
      for (const [i, page] of evaluation.entries()) {
        const file = join(dir, `evaluation-${i}.jpg`);
        await writeFile(file, page.bytes);
        evaluationFiles.push(file);
      }
      const manifests = await builtinManifests();
      const lines = await calibrationInputs('recognition', evaluationFiles, manifests, settings);
      const options: InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 };
      const fp32 = await InferenceSession.create(manifests.recognition.path, options);
      const int8 = await InferenceSession.create(registered.manifest.path, options);
      // FP32 with the quantiser's graph rewrites alone (BatchNorm folded, hard-swish fused): how much of the speed-up is int8's.
      const rewritten = onnxProto.onnx.ModelProto.encode(prepareModel(await readFile(manifests.recognition.path)).model).finish();
      const fp32Rewritten = await InferenceSession.create(rewritten, options);
      const time = { fp32: 0, int8: 0, fp32Rewritten: 0 };
      for (let round = 0; round < 2; round++) {
        for (const line of lines) {
          const feeds = { x: new Tensor('float32', line.tensor.data, line.tensor.dims) };
          for (const [name, session] of [['fp32', fp32], ['int8', int8], ['fp32Rewritten', fp32Rewritten]] as const) {
            const at = performance.now();
            await session.run(feeds);
            if (round > 0) time[name] += performance.now() - at;
          }
        }
      }
      await Promise.all([fp32.release(), int8.release(), fp32Rewritten.release()]);

      const reference = evaluation.map((page) => page.lines.join('\n')).join('\n');
      const readAll = async (acceptAbove: number | null) => {
        const pipelineConfig = acceptAbove === null ? config.pipeline : { ...config.pipeline, recognition: { ...config.pipeline.recognition, cascade: { fastModel, acceptAbove } } };
        const pipeline = await loadDocumentPipeline(pipelineConfig, config.runtime, { modelsDir });
        const texts = [];
        let cascadeLines = 0;
        let earlyExits = 0;
        try {
          for (const page of evaluation) {
            const { result } = await pipeline.read((await ingestImage(page.bytes, config.ingest)).frame, { exifOrientation: 1 });
            texts.push(result.text);
            cascadeLines += result.cascade?.lines ?? 0;
            earlyExits += result.cascade?.earlyExits ?? 0;
          }
        } finally {
          await pipeline.close();
        }
        return { cer: 100 * characterErrorRate(reference, texts.join('\n')), earlyExitShare: cascadeLines === 0 ? 0 : earlyExits / cascadeLines };
      };
      const fp32Pages = await readAll(null);
      const int8Pages = await readAll(0);
      const cascade = await readAll(config.pipeline.recognition.cascade.acceptAbove);
      const figures: Figure[] = [
        { name: 'int8.quantized_nodes', value: report.summary.quantizedConv + report.summary.quantizedMatMul, unit: 'nodes' },
        { name: 'int8.quantize_report_speedup', value: report.speedup, unit: 'x', note: `held-back lines of the calibration folder; CER vs FP32 ${report.accuracy.value.toFixed(2)} points` },
        { name: 'int8.recognition_lines', value: lines.length, unit: 'lines' },
        { name: 'int8.fp32_ms_per_line', value: time.fp32 / lines.length, unit: 'ms' },
        { name: 'int8.int8_ms_per_line', value: time.int8 / lines.length, unit: 'ms' },
        { name: 'int8.recognition_speedup', value: time.fp32 / time.int8, unit: 'x', target: 2 },
        { name: 'int8.fp32_rewritten_ms_per_line', value: time.fp32Rewritten / lines.length, unit: 'ms', note: 'FP32 with BatchNorm folded and hard-swish fused, no int8' },
        { name: 'int8.speedup_over_rewritten_fp32', value: time.fp32Rewritten / time.int8, unit: 'x' },
        { name: 'int8.fp32_cer_percent', value: fp32Pages.cer, unit: '%' },
        { name: 'int8.int8_cer_percent', value: int8Pages.cer, unit: '%' },
        { name: 'int8.cer_increase_points', value: int8Pages.cer - fp32Pages.cer, unit: 'points', target: 0.5, atMost: true },
        { name: 'int8.cascade_cer_percent', value: cascade.cer, unit: '%' },
        { name: 'int8.cascade_early_exit_share', value: cascade.earlyExitShare, unit: 'of lines' },
      ];
      return figures;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
