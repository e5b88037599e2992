// A live progress line on a terminal, redrawn a few times a second; nothing when not a TTY.
import type { FlowStats } from './stats.ts';

export function startProgress(stats: readonly FlowStats[], stream: NodeJS.WriteStream = process.stderr): () => void {
  const draw = () => {
    const parts = stats.map((s) => {
      const rate = Math.round(s.read / Math.max(s.seconds, 1e-3));
      return `${s.flow}: ${s.read} read, ${s.written} written, ${s.invalid} invalid (${rate} msg/s)`;
    });
    stream.write(`\r\x1b[2K${parts.join(' | ')}`);
  };
  const timer = setInterval(draw, 200);
  return () => {
    clearInterval(timer);
    draw();
    stream.write('\n');
  };
}
