import { execFile } from 'node:child_process';
import { Gauge, type Registry } from 'prom-client';

interface GpuReading {
  index: string;
  utilisation: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
}

function querySmi(): Promise<GpuReading[] | null> {
  return new Promise((resolve) => {
    execFile(
      'nvidia-smi',
      ['--query-gpu=index,utilization.gpu,memory.used,memory.total', '--format=csv,noheader,nounits'],
      { timeout: 5000 },
      (error, stdout) => {
        if (error) return resolve(null);
        const readings = stdout
          .trim()
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => {
            const [index, utilisation, used, total] = line.split(',').map((v) => v.trim());
            return { index, utilisation: Number(utilisation) / 100, memoryUsedBytes: Number(used) * 1024 * 1024, memoryTotalBytes: Number(total) * 1024 * 1024 };
          });
        resolve(readings);
      },
    );
  });
}

/**
 * GPU utilisation and memory from nvidia-smi, polled. Where nvidia-smi is missing or fails the
 * metrics are never registered: no GPU reads as absent, not as an idle GPU.
 * Resolves to a stop function.
 */
export async function watchGpus(registry: Registry, pollSeconds: number): Promise<() => void> {
  const first = await querySmi();
  if (first === null || first.length === 0) return () => {};
  const utilisation = new Gauge({ name: 'visionops_gpu_utilization_ratio', help: 'GPU utilisation, 0..1, from nvidia-smi.', labelNames: ['gpu'], registers: [registry] });
  const used = new Gauge({ name: 'visionops_gpu_memory_used_bytes', help: 'GPU memory in use, from nvidia-smi.', labelNames: ['gpu'], registers: [registry] });
  const total = new Gauge({ name: 'visionops_gpu_memory_total_bytes', help: 'GPU memory, from nvidia-smi.', labelNames: ['gpu'], registers: [registry] });
  const apply = (readings: GpuReading[]) => {
    for (const r of readings) {
      utilisation.set({ gpu: r.index }, r.utilisation);
      used.set({ gpu: r.index }, r.memoryUsedBytes);
      total.set({ gpu: r.index }, r.memoryTotalBytes);
    }
  };
  apply(first);
  const timer = setInterval(() => void querySmi().then((readings) => readings && apply(readings)), pollSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
