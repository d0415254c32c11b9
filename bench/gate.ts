/**
 * The gate (decode + every check) on a 1080p JPEG against OpenCV's cv2.imdecode + variance of the
 * Laplacian on the same file, run beside it in a python3 process (Debian: apt-get install python3-opencv).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import { createVisionops } from '../src/app/visionops.js';
import { checkImage } from '../src/pipeline/service.js';
import { median, photoLikeJpeg, timeInTurn, type Benchmark, type Figure } from './lib.js';

const OPENCV = `
import sys, time, statistics
import cv2, numpy as np
data = np.fromfile(sys.argv[1], dtype=np.uint8)
rounds = int(sys.argv[2])
def once():
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return cv2.Laplacian(gray, cv2.CV_64F).var()
once()
samples = []
for _ in range(rounds):
    start = time.perf_counter()
    once()
    samples.append((time.perf_counter() - start) * 1000)
print(statistics.median(samples))
`;

/** Debian's python3-opencv lives in the system python, which a pyenv or venv python3 on the PATH cannot import. */
const PYTHONS = ['/usr/bin/python3', 'python3'];

async function openCvMedian(file: string, rounds: number): Promise<number | null> {
  for (const python of PYTHONS) {
    try {
      const { stdout } = await promisify(execFile)(python, ['-c', OPENCV, file, String(rounds)]);
      return Number(stdout.trim());
    } catch {
      // Not there, or without cv2: try the next.
    }
  }
  return null;
}

export const gateBenchmark: Benchmark = {
  name: 'gate',
  describe: 'decode + gate of a 1920 x 1080 JPEG vs OpenCV imdecode + Laplacian variance (python3-opencv), same file',
  async run({ quick }) {
    const rounds = quick ? 3 : 21;
    const jpeg = await photoLikeJpeg(quick ? 640 : 1920, quick ? 360 : 1080);
    const dir = await mkdtemp(join(tmpdir(), 'visionops-bench-'));
    const file = join(dir, 'frame.jpg');
    await writeFile(file, jpeg);
    const visionops = await createVisionops(loadConfig({}), { scope: 'gate' });
    const runner = visionops.runner();
    try {
      // OpenCV first and last around ours, so a neighbour's burst of load shows in both.
      const before = await openCvMedian(file, rounds);
      const ours = median((await timeInTurn(rounds, { gate: () => checkImage(runner, jpeg) })).gate);
      const afterwards = await openCvMedian(file, rounds);
      const figures: Figure[] = [{ name: 'gate.visionops_ms', value: ours, unit: 'ms', note: 'ingest (decode, EXIF, SHA-256, perceptual hash) + every check' }];
      if (before === null || afterwards === null) {
        figures.push({ name: 'gate.opencv_ms', value: NaN, unit: 'ms', note: 'python3 with cv2 unavailable: apt-get install python3-opencv' });
      } else {
        const opencv = (before + afterwards) / 2;
        figures.push({ name: 'gate.opencv_ms', value: opencv, unit: 'ms' }, { name: 'gate.ratio_to_opencv', value: ours / opencv, unit: 'x', target: 1, atMost: true });
      }
      return figures;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
