import { publicationPush, prepareChannel, isJson, joinFrame } from '@rotor/proto';
const payload = new TextEncoder().encode(JSON.stringify({ text: 'x'.repeat(100) }));
const ch = prepareChannel('bench');
function time(label: string, n: number, fn: () => void) { const s = process.hrtime.bigint(); fn(); console.log(label, (Number(process.hrtime.bigint() - s) / n).toFixed(0), 'ns'); }
const N = 200000;
for (let r = 0; r < 2; r++) {
time('isJson', N, () => { for (let i = 0; i < N; i++) isJson(payload); });
time('json push', N, () => { for (let i = 0; i < N; i++) publicationPush(ch, { data: payload, offset: i + 1 }, 'json'); });
time('proto push', N, () => { for (let i = 0; i < N; i++) publicationPush(ch, { data: payload, offset: i + 1 }, 'protobuf'); });
time('json push with info undefined', N, () => { for (let i = 0; i < N; i++) publicationPush(ch, { data: payload, info: undefined, offset: i + 1 }, 'json'); });
const parts = Array.from({ length: 16 }, () => publicationPush(ch, { data: payload, offset: 1 }, 'json'));
time('joinFrame 16', N / 16, () => { for (let i = 0; i < N / 16; i++) joinFrame(parts, 'json'); });
}
