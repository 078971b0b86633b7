// ONNX Runtime peer of `vidbench bench i3d --peers`: runs the ONNX model that the PyTorch peer
// exported (bench/peers/i3d_torch.py --export-onnx) with the npm package onnxruntime-node.
//
//   node i3d_onnxruntime.mjs --modules DIR --probe
//       "ready onnxruntime-node VERSION" when DIR (a node_modules folder, or a folder above one)
//       resolves onnxruntime-node, else "skip WHY"; then exits
//   node i3d_onnxruntime.mjs --modules DIR --model M.onnx --input CLIP.npy --threads N
//       same line protocol as i3d_torch.py: "ready ...", then "run ort OUT.npy" -> "ok MS"
//       (session.run alone, wall clock) with logits float32 [N,classes] in OUT.npy; "quit".
// CLIP.npy is float32 [N,T,224,224,3] in [0,1]; the model maps it to 2x-1 itself. Session:
// intra-op threads = N, inter-op 1, sequential execution, every graph optimization on.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const reply = (line) => process.stdout.write(line + '\n');

function option(name) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : undefined;
}

// float32 C-order .npy (versions 1-3) -> { shape, data }
function readNpy(file) {
  const buf = readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header))
    throw new Error(`${file}: expected little-endian float32 in C order, header ${header.trim()}`);
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  if (start + 4 * count > buf.length) throw new Error(`${file}: shorter than its shape ${shape}`);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + start + 4 * count));
  return { shape, data };
}

function writeNpy(file, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';   // data starts at a multiple of 64
  const head = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(head);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

async function main() {
  const modules = option('--modules');
  let ort;
  try {
    ort = createRequire(path.join(path.resolve(modules), 'vidbench-peer.js'))('onnxruntime-node');
  } catch (e) {
    reply(`skip onnxruntime-node not found from ${modules} (${String(e.message).split('\n')[0]}); scripts/install-bench-peers.sh installs it`);
    return 0;
  }
  const version = `onnxruntime-node ${ort.env.versions?.node ?? '?'}`;
  if (process.argv.includes('--probe')) {
    reply(`ready ${version}`);
    return 0;
  }
  const threads = Number(option('--threads'));
  const clip = readNpy(option('--input'));
  const session = await ort.InferenceSession.create(option('--model'), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
    logSeverityLevel: 3,
  });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', clip.data, clip.shape) };
  reply(`ready ${version}`);
  const lines = readline.createInterface({ input: process.stdin, terminal: false });
  for await (const line of lines) {
    const words = line.trim().split(/\s+/);
    if (words[0] === '' || words[0] === 'quit') break;
    if (words[0] !== 'run' || words.length !== 3 || words[1] !== 'ort') {
      reply(`error unknown command: ${line.trim()}`);
      continue;
    }
    try {
      const t0 = process.hrtime.bigint();
      const out = await session.run(feeds);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const logits = out[session.outputNames[0]];
      writeNpy(words[2], logits.dims, logits.data);
      reply(`ok ${ms.toFixed(3)}`);
    } catch (e) {
      reply(`error ${String(e.message).replace(/\n/g, ' ')}`);
    }
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    reply(`error ${String(e && e.message).replace(/\n/g, ' ')}`);
    process.exit(1);
  },
);
