import { assert, assertEquals, assertNotEquals } from "@std/assert";
import {
  buildModel,
  clusterScores,
  decodeCodes,
  digitRows,
  disposeModel,
  encodeAll,
  fewLabelAccuracy,
  firstOfEachDigit,
  initBackend,
  pixelCodes,
  styleAcrossLabels,
  subset,
  TRAIN_DEFAULTS,
} from "../../lib/mod.ts";
import { syntheticMnist } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

Deno.test("digitRows() and firstOfEachDigit() order samples digit by digit", () => {
  assertEquals(digitRows(2), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]);
  const { test } = syntheticMnist(10, 200);
  const picked = firstOfEachDigit(test, 2);
  assertEquals(Array.from(picked.labels), digitRows(2));
  // The first two of each digit, in the split's order.
  const firstSevens = Array.from(test.labels).flatMap((d, i) => (d === 7 ? [i] : [])).slice(0, 2);
  assertEquals(
    Array.from(picked.images.subarray(14 * 784, 16 * 784)),
    Array.from(subset(test, firstSevens).images),
  );
});

Deno.test("styleAcrossLabels() decodes each image's own-label code with every label", () => {
  const model = buildModel({ ...TRAIN_DEFAULTS, conditional: true, hiddenSize: 16, latentSize: 3 });
  const images = firstOfEachDigit(syntheticMnist(10, 100).test, 1);
  const grid = styleAcrossLabels(model, subset(images, [4, 8]));
  assertEquals(grid.length, 2 * 10 * 784);
  // Row 2 (the 8), column 3: the 8's code, encoded with label 8, decoded with label 3. The
  // reference is built with the same shapes (2 images encoded, 20 codes decoded, the 8's code
  // with label 3 at row 13, zeros elsewhere): a matrix product's row depends on the number of
  // rows on some BLAS kernels (OpenBLAS's Haswell kernels round a 1-row product's last bits
  // otherwise), never on the other rows' values, so this compares the same operations bit for bit.
  const code = encodeAll(model, subset(images, [4, 8])).mean.subarray(3, 6);
  const codes = new Float32Array(20 * 3);
  codes.set(code, 13 * 3);
  const labels = Array.from({ length: 20 }, (_, i) => (i === 13 ? 3 : 0));
  assertEquals(
    Array.from(grid.subarray((10 + 3) * 784, (10 + 4) * 784)),
    Array.from(decodeCodes(model, codes, { labels }).subarray(13 * 784, 14 * 784)),
  );
  disposeModel(model);
});

Deno.test("fewLabelAccuracy() and clusterScores() keep each measure under its own key", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = syntheticMnist(400, 100);
    const pixels = await pixelCodes(data, { dir });
    assert(pixels.cache.folder.startsWith(`${dir}/pixels-`));
    // Another split, another folder.
    assertNotEquals(
      (await pixelCodes(syntheticMnist(401, 100), { dir })).cache.folder,
      pixels.cache.folder,
    );
    const few = await fewLabelAccuracy(pixels, { perClass: 5, draws: 2 });
    assertEquals(few.length, 2);
    assertNotEquals(few[0], few[1], "each draw its own labelled examples");
    const all = await fewLabelAccuracy(pixels, { perClass: "all", draws: 2 });
    assertEquals(all.length, 1);
    // Synthetic digits are a box per label (neighbouring boxes overlap): far above chance.
    assert(all[0] > 0.5, `accuracy ${all[0]}`);
    const clusters = await clusterScores(pixels, { seed: 1 });
    const kept = JSON.parse(await Deno.readTextFile(`${pixels.cache.folder}/measures.json`));
    assertEquals(Object.keys(kept).sort(), [
      "k-means, k = 10, best of 5 from seed 1, test split",
      "softmax regression: 5 labels per digit, 2 draws",
      "softmax regression: all training labels",
    ]);
    assertEquals(kept["k-means, k = 10, best of 5 from seed 1, test split"], clusters);
    // A second call reads the kept value instead of computing it.
    kept["softmax regression: all training labels"] = [0.5];
    await Deno.writeTextFile(`${pixels.cache.folder}/measures.json`, JSON.stringify(kept));
    assertEquals(await fewLabelAccuracy(pixels, { perClass: "all", draws: 2 }), [0.5]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
