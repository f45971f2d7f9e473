import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import * as tf from "@tensorflow/tfjs";
import {
  buildModel,
  codeBits,
  codePrior,
  codeUse,
  disposeModel,
  evaluateVq,
  initBackend,
  nearestCodes,
  sampleCodeGrid,
  train,
  type TrainConfig,
  vqCodes,
  vqTerms,
  VQVAE_DEFAULTS,
} from "../../lib/mod.ts";
import { syntheticDigits, syntheticMnist } from "../synthetic.ts";

await initBackend({ backend: "wasm", quiet: true });

const SMALL: TrainConfig = {
  ...VQVAE_DEFAULTS,
  latentSize: 4,
  codebookSize: 8,
  batchSize: 32,
  epochs: 1,
};

Deno.test("nearestCodes() picks the nearest codebook vector of each row", () => {
  const codebook = tf.tensor2d([[0, 0], [10, 0], [0, 10]]);
  const rows = tf.tensor2d([[1, 1], [9, -1], [4, 6], [6, 4]]);
  // [4, 6] is nearer (0, 10) than (10, 0): 16 + 16 = 32 against 36 + 36 = 72, and (0, 0) at 52.
  assertEquals(Array.from(nearestCodes(rows, codebook).dataSync()), [0, 1, 2, 1]);
  tf.dispose([codebook, rows]);
});

Deno.test("codeUse() is K for equal use, 1 for one code, and counts the unused", () => {
  assertAlmostEquals(codeUse([0, 1, 2, 3, 0, 1, 2, 3], 4).perplexity, 4, 1e-12);
  assertEquals(codeUse([2, 2, 2], 4), { perplexity: 1, unused: 3 });
  // Frequencies 1/2, 1/4, 1/4: exp(H) = exp(1.5 log 2) = 2^1.5.
  assertAlmostEquals(codeUse([0, 0, 1, 2], 5).perplexity, 2 ** 1.5, 1e-12);
  assertEquals(codeUse([0, 0, 1, 2], 5).unused, 2);
});

Deno.test("codePrior() counts codes cell by cell, plus one, and sampleCodeGrid() draws from it", () => {
  // Two cells, three codes; grids [0, 2], [0, 1]: cell 0 counts (3, 1, 1) / 5, cell 1 (1, 2, 2) / 5.
  const prior = codePrior([0, 2, 0, 1], 2, 3);
  assertEquals(Array.from(prior, (p) => Math.round(p * 5)), [3, 1, 1, 1, 2, 2]);
  assertThrows(() => codePrior([0, 1, 2], 2, 3), RangeError, "whole grids of 2");
  const model = buildModel(SMALL);
  const cells = model.quantizer!.cells;
  // A prior that puts all of cell c's mass on code c mod 8: every grid is the same.
  const sure = new Float64Array(cells * 8);
  for (let c = 0; c < cells; c++) sure[c * 8 + (c % 8)] = 1;
  const grids = sampleCodeGrid(model, 3, 1, sure);
  const codebook = model.quantizer!.codebook.arraySync() as number[][];
  const values = grids.arraySync() as number[][];
  for (const grid of values) {
    for (let c = 0; c < cells; c++) assertEquals(grid.slice(c * 4, c * 4 + 4), codebook[c % 8]);
  }
  // Uniform draws use every code.
  const uniform = sampleCodeGrid(model, 20, 2);
  const seen = new Set(
    tf.tidy(() =>
      nearestCodes(tf.reshape(uniform, [-1, 4]) as tf.Tensor2D, model.quantizer!.codebook)
    )
      .dataSync(),
  );
  assertEquals(seen.size, 8);
  tf.dispose([grids, uniform]);
  disposeModel(model);
});

Deno.test("vqTerms(): the decoder's gradient passes straight through to the encoder, not the codebook", () => {
  const model = buildModel(SMALL);
  const x = tf.tensor2d(syntheticDigits(4, 5).images, [4, 784]);
  const codebook = model.quantizer!.codebook;
  const encoder = model.variables.filter((_, i) => model.names[i].startsWith("encoder."));
  const gradsOf = (part: "reconstruction" | "codebook" | "commitment") =>
    tf.variableGrads(() => tf.sum(vqTerms(model, x, { commitment: 0.25 })[part]) as tf.Scalar, [
      codebook,
      ...encoder,
    ]).grads;
  const norm = (g: tf.NamedTensorMap, v: tf.Variable) =>
    tf.tidy(() => tf.norm(g[v.name]).dataSync()[0]);
  const reconstruction = gradsOf("reconstruction");
  assertEquals(norm(reconstruction, codebook), 0);
  assert(norm(reconstruction, encoder[0]) > 0, "the encoder learns from the reconstruction");
  const codebookGrads = gradsOf("codebook");
  assert(norm(codebookGrads, codebook) > 0);
  assertEquals(norm(codebookGrads, encoder[0]), 0);
  const commitment = gradsOf("commitment");
  assertEquals(norm(commitment, codebook), 0);
  assert(norm(commitment, encoder[0]) > 0);
  // The codebook loss's gradient, by hand: 2 (e_j - z_e) summed over the cells that chose j.
  const byHand = tf.tidy(() => {
    const vectors = model.quantizer!.continuous(x);
    const codes = nearestCodes(vectors, codebook);
    const chosen = tf.matMul(tf.oneHot(codes, 8).toFloat(), codebook);
    return tf.matMul(
      tf.oneHot(codes, 8).toFloat(),
      tf.mul(tf.sub(chosen, vectors), 2),
      true,
      false,
    );
  });
  const diff = tf.tidy(() =>
    tf.max(tf.abs(tf.sub(byHand, codebookGrads[codebook.name]))).dataSync()[0]
  );
  assert(diff < 1e-4, `codebook gradient off by ${diff}`);
  tf.dispose([x, byHand, reconstruction, codebookGrads, commitment] as tf.TensorContainer);
  disposeModel(model);
});

Deno.test("a VQ-VAE trains through the loop: loss falls, codes stay in use, test records its terms", async () => {
  const { model, history } = await train(syntheticMnist(256, 64), { ...SMALL, epochs: 3 });
  const train_ = history.filter((r) => r.split === "train");
  const test = history.filter((r) => r.split === "test");
  assert(train_[2].loss < train_[0].loss, `loss ${train_[0].loss} -> ${train_[2].loss}`);
  assertEquals(test.length, 3);
  const last = test[2] as unknown as Record<string, number>;
  assert(last.perplexity > 1 && last.perplexity <= 8, `perplexity ${last.perplexity}`);
  const evaluated = evaluateVq(model, syntheticMnist(256, 64).test);
  assertAlmostEquals(evaluated.reconstruction, last.reconstruction, 1e-3);
  assertAlmostEquals(
    evaluated.loss,
    evaluated.reconstruction + evaluated.codebook + evaluated.commitment,
    1e-3,
  );
  disposeModel(model);
});

Deno.test("vqCodes() gives each image's cells' codes in order; codeBits() sums -log2 p per image", () => {
  const model = buildModel(SMALL);
  const data = syntheticDigits(7, 6);
  const codes = vqCodes(model, data);
  assertEquals(codes.length, 7 * 49);
  // The codes of all 7 images in one pass (the same products, so the same nearest codes on any
  // BLAS core), image 3's cells read at their place: rows 3 * 49 to 4 * 49.
  const direct = tf.tidy(() =>
    nearestCodes(
      model.quantizer!.continuous(tf.tensor2d(data.images, [7, 784])),
      model.quantizer!.codebook,
    ).dataSync()
  );
  assertEquals(
    Array.from(codes.subarray(3 * 49, 4 * 49)),
    Array.from(direct.subarray(3 * 49, 4 * 49)),
  );
  // Two cells, two codes: p(cell 0) = (1/2, 1/2), p(cell 1) = (1/4, 3/4). Grids [0, 1] and
  // [1, 0] cost 1 + log2(4/3) and 1 + 2 bits: 2.2075 on average.
  const prior = Float64Array.from([0.5, 0.5, 0.25, 0.75]);
  assertAlmostEquals(codeBits([0, 1, 1, 0], prior, 2), (1 + Math.log2(4 / 3) + 3) / 2, 1e-12);
  disposeModel(model);
});
