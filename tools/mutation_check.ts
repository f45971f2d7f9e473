/**
 * Do the tests fail when a formula is wrong? Each mutation below is a plausible bug (a dropped
 * factor, a flipped comparison, a seed that ignores the epoch, a hash that ignores a split),
 * applied to a copy of the repository; the tests are run on the copy, and a mutation the whole
 * suite lets pass is reported as a survivor.
 *
 *   deno run -A tools/mutation_check.ts            # every mutation (about 40 s each)
 *   deno run -A tools/mutation_check.ts adam kl    # those whose name contains a word
 *   deno run -A tools/mutation_check.ts --files lib/model/vqvae.ts,lib/train/step.ts
 *                                                  # those that mutate the named files
 *
 * The tests that need Jupyter are left out (they check the runner, not formulas), and so is the
 * list's own test (any mutated copy fails it). Exit status 1 when a mutation survives.
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Tests not run on a mutated copy (see `main`). */
const EXCLUDED_TESTS = ["tools/run_notebooks_faults_test.ts", "tools/mutation_check_test.ts"];

/** A bug: in `file`, the one occurrence of `from` becomes `to`. */
interface Mutation {
  name: string;
  file: string;
  from: string;
  to: string;
}

export const MUTATIONS: Mutation[] = [
  // The mathematics of the model.
  {
    name: "kl: drop the 1/2",
    file: "lib/model/gaussian.ts",
    from: "tf.mul(tf.sum(terms, 1), -0.5)",
    to: "tf.mul(tf.sum(terms, 1), -1)",
  },
  {
    name: "kl: + mean^2",
    file: "lib/model/gaussian.ts",
    from: "tf.sub(tf.sub(tf.add(logVar, 1), tf.square(mean)), tf.exp(logVar))",
    to: "tf.sub(tf.add(tf.add(logVar, 1), tf.square(mean)), tf.exp(logVar))",
  },
  {
    name: "reparameterize: exp(logVar) for the std",
    file: "lib/model/gaussian.ts",
    from: "tf.add(mean, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps))",
    to: "tf.add(mean, tf.mul(tf.exp(logVar), eps))",
  },
  {
    name: "log density: drop log var",
    file: "lib/model/gaussian.ts",
    from: "tf.sum(tf.add(scaled, logVar), 1)",
    to: "tf.sum(scaled, 1)",
  },
  {
    name: "standard normal: drop the constant",
    file: "lib/model/gaussian.ts",
    from: "z.shape[1] * HALF_LOG_TWO_PI) as tf.Tensor1D",
    to: "0) as tf.Tensor1D",
  },
  {
    name: "bernoulli: wrong gradient sign",
    file: "lib/model/losses.ts",
    from: "tf.mul(tf.sub(x, tf.sigmoid(logits))",
    to: "tf.mul(tf.sub(tf.sigmoid(logits), x)",
  },
  {
    name: "gaussian likelihood: drop log scale",
    file: "lib/model/losses.ts",
    from: "dim * (Math.log(scale) + HALF_LOG_TWO_PI)",
    to: "dim * HALF_LOG_TWO_PI",
  },
  {
    name: "laplace: log scale for log 2 scale",
    file: "lib/model/losses.ts",
    from: "dim * Math.log(2 * scale)",
    to: "dim * Math.log(scale)",
  },
  // Statistics and estimators.
  {
    name: "logMeanExp: log sum",
    file: "lib/base/stats.ts",
    from: "return max + Math.log(sum / values.length);",
    to: "return max + Math.log(sum);",
  },
  {
    name: "stdError: n for n - 1",
    file: "lib/base/stats.ts",
    from: "Math.sqrt(ss / (n - 1) / n)",
    to: "Math.sqrt(ss / n / n)",
  },
  {
    name: "importance weight: forget log q",
    file: "lib/measure/importance.ts",
    from: "tf.sub(model.prior.logDensity(z), gaussianLogDensity(z, m, lv))",
    to: "model.prior.logDensity(z)",
  },
  {
    name: "L_k: average over one group",
    file: "lib/measure/importance.ts",
    from: "bounds[c][start + i] = sum / groups;",
    to: "bounds[c][start + i] = sum;",
  },
  {
    name: "unitKl: drop exp",
    file: "lib/measure/latent.ts",
    from: "m * m - Math.exp(lv)",
    to: "m * m - lv",
  },
  {
    name: "interpolation: miss the far end",
    file: "lib/measure/metrics.ts",
    from: "const t = s / (steps - 1);",
    to: "const t = s / steps;",
  },
  {
    name: "active units: flipped threshold",
    file: "lib/measure/metrics.ts",
    from: "variances.filter((v) => v > threshold)",
    to: "variances.filter((v) => v < threshold)",
  },
  // Training.
  {
    name: "adam kernel: no bias correction of m",
    file: "lib/train/optimizer.ts",
    from: "stepSize: this.learningRate / (1 - this.beta1 ** t)",
    to: "stepSize: this.learningRate",
  },
  {
    name: "adam kernel: v without its correction",
    file: "lib/train/optimizer.ts",
    from: "root: 1 / Math.sqrt(1 - this.beta2 ** t)",
    to: "root: 1",
  },
  {
    name: "matMul: a transposed A read as plain",
    file: "lib/base/compiled_kernels.ts",
    from: "transA: attrs.transposeA,",
    to: "transA: false,",
  },
  {
    name: "two threads: shard weights swapped",
    file: "lib/train/shared_step.ts",
    from: "this.#optimizer.apply(variables, g0, scale, { grads: g1, a, b });",
    to: "this.#optimizer.apply(variables, g0, scale, { grads: g1, a: b, b: a });",
  },
  {
    name: "adam: the norm's squares of the last variable only",
    file: "lib/train/optimizer.ts",
    from: "squares += lastAdamSquares();",
    to: "squares = lastAdamSquares();",
  },
  // The system's BLAS and the one-kernel steps.
  {
    name: "blas: lda of a transposed A",
    file: "lib/base/blas.ts",
    from: "transA ? m : k,",
    to: "k,",
  },
  {
    name: "blas product: bias dropped",
    file: "lib/base/compiled_kernels.ts",
    from: "if (bias !== 0 || activation !== 0)",
    to: "if (activation !== 0)",
  },
  {
    name: "one-kernel step: the sum, not the mean, of the rows",
    file: "lib/base/heap_plan.ts",
    from: "at(dLogits), 1 / rows, rows, d);",
    to: "at(dLogits), 1, rows, d);",
  },
  {
    name: "one-kernel step: beta ignored",
    file: "lib/base/heap_plan.ts",
    from: "coefs[i] = (gamma > 0 ? gamma * Math.sign(deviation) : beta) / rows;",
    to: "coefs[i] = (gamma > 0 ? gamma * Math.sign(deviation) : 1) / rows;",
  },
  {
    name: "conv one-kernel step: decoder's filter gradient from the wrong image",
    file: "lib/base/conv_vae_kernel.ts",
    from: "plan.mul(columns, u, d.t2f, [9, 32, p1], { transA: true });",
    to: "plan.mul(columns, du, d.t2f, [9, 32, p1], { transA: true });",
  },
  {
    name: "activation gradient: leaky slope ignored",
    file: "lib/base/fused_kernels.ts",
    from: "return [code, (attrs?.leakyreluAlpha as number | undefined) ?? 0.2];",
    to: "return [code, 0];",
  },
  {
    name: "clipping: flipped comparison",
    file: "lib/train/optimizer.ts",
    from: "norm <= clipNorm ? 1",
    to: "norm >= clipNorm ? 1",
  },
  {
    name: "capacity: off by an epoch",
    file: "lib/train/step.ts",
    from: "(epoch - 1 + step / steps) / config.epochs",
    to: "(epoch + step / steps) / config.epochs",
  },
  {
    name: "step seed ignores the epoch",
    file: "lib/train/step.ts",
    from: "return mixSeeds(seed, epoch, step, purpose);",
    to: "return mixSeeds(seed, step, purpose);",
  },
  {
    name: "batch order ignores the epoch",
    file: "lib/data/dataset.ts",
    from: "rng(mixSeeds(options.seed ?? 0, options.epoch ?? 0))",
    to: "rng(mixSeeds(options.seed ?? 0, 0))",
  },
  {
    name: "evaluate: per batch, not per image",
    file: "lib/train/evaluate.ts",
    from: ".map((s) => s / data.size)",
    to: ".map((s) => s / Math.ceil(data.size / batchSize))",
  },
  {
    name: "collapse: flipped threshold",
    file: "lib/train/evaluate.ts",
    from: "kl / data.size >= COLLAPSE_NATS",
    to: "kl / data.size < COLLAPSE_NATS",
  },
  {
    name: "divergence: Infinity passes",
    file: "lib/train/loop.ts",
    from: "row.findIndex((v) => !Number.isFinite(v))",
    to: "row.findIndex((v) => Number.isNaN(v))",
  },
  {
    name: "seed 0 unseeded again",
    file: "lib/base/random.ts",
    from: 'return seed === 0 ? "0" as unknown as number : seed;',
    to: "return seed;",
  },
  {
    name: "mixSeeds: order ignored",
    file: "lib/base/random.ts",
    from: "hash = mix32(hash ^ fold(part));",
    to: "hash = hash ^ mix32(fold(part));",
  },
  {
    name: "aggregate posterior: variance for std",
    file: "lib/measure/metrics.ts",
    from: "Math.exp(0.5 * codes.logVar[i * L + j])",
    to: "Math.exp(codes.logVar[i * L + j])",
  },
  {
    name: "code spread: mean for rms",
    file: "lib/measure/metrics.ts",
    from: "center: rms(means.map((m) => m * m))",
    to: "center: rms(means)",
  },
  {
    name: "reconstruction error: decode a sample",
    file: "lib/measure/metrics.ts",
    from: "const logits = labelled.decode(labelled.encode(x).mean);",
    to: "const logits = labelled.decode(tf.add(labelled.encode(x).mean, 0.5));",
  },
  {
    name: "decodeCodes: logits for pixels",
    file: "lib/measure/metrics.ts",
    from: "tf.tidy(() => tf.sigmoid(model.decode(",
    to: "tf.tidy(() => (model.decode(",
  },
  {
    name: "latent grid: quantiles off the centre",
    file: "lib/measure/latent.ts",
    from: "normalQuantile((i + 0.5) / side)",
    to: "normalQuantile((i + 1) / (side + 2))",
  },
  {
    name: "capacity: no absolute value",
    file: "lib/train/step.ts",
    from: "tf.abs(tf.sub(terms.kl, capacityAt(config, position)))",
    to: "tf.sub(terms.kl, capacityAt(config, position))",
  },
  {
    name: "denoising: noise not clipped",
    file: "lib/train/step.ts",
    from: "tf.clipByValue(tf.add(x, eps), 0, 1) as tf.Tensor2D",
    to: "tf.add(x, eps) as tf.Tensor2D",
  },
  {
    name: "shard noise: the wrong rows",
    file: "lib/model/gaussian.ts",
    from: "tf.slice(whole, [shard.offset, 0]",
    to: "tf.slice(whole, [0, 0]",
  },
  {
    name: "beta-ELBO: beta squared",
    file: "lib/model/losses.ts",
    from: "tf.add(reconstruction, tf.mul(kl, beta))",
    to: "tf.add(reconstruction, tf.mul(kl, beta * beta))",
  },
  {
    name: "subset: labels of the wrong example",
    file: "lib/data/dataset.ts",
    from: "labels[i] = data.labels[j];",
    to: "labels[i] = data.labels[i];",
  },
  {
    name: "progress: ETA from the time left",
    file: "lib/viz/progress.ts",
    from: "event.seconds * (1 - progress) / progress",
    to: "event.seconds * progress / (1 - progress)",
  },
  // Data and the run cache.
  {
    name: "run hash ignores the data",
    file: "lib/train/runs.ts",
    from: "JSON.stringify({ config: sortedConfig(config), data })",
    to: "JSON.stringify({ config: sortedConfig(config) })",
  },
  {
    name: "data description ignores the test split",
    file: "lib/train/runs.ts",
    from: "for (const images of [data.train.images, data.test.images])",
    to: "for (const images of [data.train.images])",
  },
  {
    name: "cache: checksum not compared",
    file: "lib/train/run_folder.ts",
    from: "if (actual !== expected) {",
    to: "if (actual === undefined) {",
  },
  {
    name: "idx: label count not checked",
    file: "lib/data/mnist.ts",
    from: "if (labels.dims[0] !== n) {",
    to: "if (labels.dims[0] > n) {",
  },
  {
    name: "pixels: 1 rejected",
    file: "lib/data/dataset.ts",
    from: "!(p >= low && p <= high)",
    to: "!(p >= low && p < high)",
  },
  {
    name: "linear-Gaussian posterior: drop W^T",
    file: "lib/linear_gaussian/exact.ts",
    from: "cholSolve(L, matTVec(W, residual, r), r)",
    to: "cholSolve(L, residual.slice(0, r.length), r)",
  },
  // The adversarial models and the sample-quality score.
  {
    name: "frechet: drop the 2 of the cross term",
    file: "lib/measure/quality.ts",
    from: "distance - 2 * traceSqrtProduct",
    to: "distance - traceSqrtProduct",
  },
  {
    name: "classifier score: forget the marginal",
    file: "lib/measure/quality.ts",
    from: "kl += p * (Math.log(p) - Math.log(marginal[c]))",
    to: "kl += p * Math.log(p)",
  },
  {
    name: "mixture: ignore the weights",
    file: "lib/model/prior.ts",
    from: "tf.add(perComponent, tf.logSoftmax(logits))",
    to: "perComponent",
  },
  {
    name: "mixture: always the first component",
    file: "lib/model/prior.ts",
    from: "let u = random();",
    to: "let u = 0 * random();",
  },
  {
    name: "cross-entropy: + t l",
    file: "lib/model/losses.ts",
    from: "tf.sub(tf.softplus(logits), tf.mul(logits, target))",
    to: "tf.add(tf.softplus(logits), tf.mul(logits, target))",
  },
  {
    name: "non-saturating loss: softplus(l)",
    file: "lib/model/losses.ts",
    from: "tf.softplus(tf.neg(logits)) as tf.Tensor1D",
    to: "tf.softplus(logits) as tf.Tensor1D",
  },
  {
    name: "score function: the baseline ignored",
    file: "lib/model/losses.ts",
    from: "const baseline = constantOf(logLikelihood(x, model.decode(mean), options));",
    to: "const baseline = tf.zerosLike(constantOf(logLikelihood(x, model.decode(mean), options)));",
  },
  {
    name: "knn accuracy: a point votes for itself",
    file: "lib/measure/embedding.ts",
    from: "distances[j] = j === i ? Infinity : dx * dx + dy * dy;",
    to: "distances[j] = j === i ? 0 : dx * dx + dy * dy;",
  },
  {
    name: "near-duplicates: flipped threshold",
    file: "lib/measure/images.ts",
    from: "> threshold",
    to: "< threshold",
  },
  {
    name: "cluster accuracy: the worst matching",
    file: "lib/measure/downstream.ts",
    from: "counts.map((row) => row.map((c) => -c))",
    to: "counts.map((row) => row.map((c) => c))",
  },
  {
    name: "balanced draw: the same examples for every seed",
    file: "lib/measure/downstream.ts",
    from: "const random = rng(seed);",
    to: "const random = rng(0);",
  },
  {
    name: "conditional: labels out of order",
    file: "lib/model/conditional.ts",
    from: 'tf.tensor1d(Array.from(labels), "int32")',
    to: 'tf.tensor1d(Array.from(labels).reverse(), "int32")',
  },
  {
    name: "vq-vae: codebook loss moves the encoder",
    file: "lib/model/vqvae.ts",
    from: "perImage(tf.sub(constantOf(vectors), chosen))",
    to: "perImage(tf.sub(vectors, chosen))",
  },
  {
    name: "vq-vae: code use counts the last code twice",
    file: "lib/model/vqvae.ts",
    from: "for (let i = 0; i < codes.length; i++) counts[codes[i]] += 1;",
    to:
      "for (let i = 0; i < codes.length; i++) counts[codes[i]] += i === codes.length - 1 ? 2 : 1;",
  },
  {
    name: "vae-gan: featureWeight ignored",
    file: "lib/train/vaegan_step.ts",
    from: "this.#config.featureWeight ?? 1",
    to: "1",
  },
  {
    name: "vq-vae: the nearest code is the farthest",
    file: "lib/model/vqvae.ts",
    from: "return tf.argMin(distance, 1) as tf.Tensor1D;",
    to: "return tf.argMax(distance, 1) as tf.Tensor1D;",
  },
  {
    name: "gan: later critic steps reuse the first draw",
    file: "lib/train/adversarial.ts",
    from: "if (k > 0) z = draw(k);",
    to: "if (k > 0) z = draw(0);",
  },
  {
    name: "two threads: clip by this thread's share of the norm",
    file: "lib/train/shared_step.ts",
    from: "scale = clipScale(this.#norm(), this.#config.clipNorm);",
    to:
      "scale = clipScale(Math.sqrt(2 * this.#stats[STATS * this.shard + 4]), this.#config.clipNorm);",
  },
  {
    name: "mixture prior: the components' weights reversed",
    file: "lib/model/prior.ts",
    from: "tf.logSoftmax(logits)",
    to: "tf.logSoftmax(tf.neg(logits))",
  },
  {
    name: "stratified split: the smallest remainders get the extra picks",
    file: "lib/base/random.ts",
    from: "exact[b] - quota[b] - (exact[a] - quota[a])",
    to: "exact[a] - quota[a] - (exact[b] - quota[b])",
  },
  {
    name: "adam: beta2 rounded to float32 before 1 - beta2",
    file: "lib/train/optimizer.ts",
    from: "beta2: this.beta2,",
    to: "beta2: Math.fround(this.beta2),",
  },
  {
    name: "shards: every shard trains every run",
    file: "lib/train/shard.ts",
    from: "return shard === undefined || shardOf(hash, shard.count) === shard.index;",
    to: "return true;",
  },
  // Issue 31: the areas where planted bugs survived, each against its telling test.
  {
    name: "vae-gan: the discriminator takes the reconstruction for real",
    file: "lib/train/vaegan_step.ts",
    from: "tf.mean(binaryCrossEntropy(fakes[0], 0)),",
    to: "tf.mean(binaryCrossEntropy(fakes[0], 1)),",
  },
  {
    name: "vae-gan: the discriminator sees the reconstruction twice",
    file: "lib/train/vaegan_step.ts",
    from: "criticLoss(realLogits, fakes[1], 1),",
    to: "criticLoss(realLogits, fakes[0], 1),",
  },
  {
    name: "vae-gan: the discriminator sees real pixels in [0, 1]",
    file: "lib/train/vaegan_step.ts",
    from: "const realLogits = critic(toCritic(x));",
    to: "const realLogits = critic(x);",
  },
  {
    name: "vae-gan: fakeScore of the reconstructions",
    file: "lib/train/vaegan_step.ts",
    from: "tf.mean(tf.sigmoid(fakes[1]))",
    to: "tf.mean(tf.sigmoid(fakes[0]))",
  },
  {
    name: "vq-vae test measure: the default commitment",
    file: "lib/train/kinds.ts",
    from: "return (test) => evaluateVq(model, test, config);",
    to: "return (test) => evaluateVq(model, test);",
  },
  {
    name: "vq-vae test measure: the mean over batches",
    file: "lib/train/vqvae_step.ts",
    from: "Array.from(sums, (s) => s / data.size)",
    to: "Array.from(sums, (s) => s / (codes.length * 500))",
  },
  {
    name: "vae test measure: the default beta",
    file: "lib/train/kinds.ts",
    from: "...evaluate(model, test, config)",
    to: "...evaluate(model, test, { ...config, beta: 1 })",
  },
  {
    name: "shards: the timeout read in milliseconds",
    file: "lib/train/shard.ts",
    from: "const deadline = clock.now() + timeout * 1000;",
    to: "const deadline = clock.now() + timeout;",
  },
  {
    name: "shards: the poll read in tenths of seconds",
    file: "lib/train/shard.ts",
    from: "await clock.sleep(poll * 1000);",
    to: "await clock.sleep(poll * 100);",
  },
  {
    name: "shards: a zero VAELAB_SHARD_POLL taken",
    file: "lib/train/shard.ts",
    from: "return value > 0 ? value : fallback;",
    to: "return value >= 0 ? value : fallback;",
  },
  {
    name: "softmax regression: Adam without bias correction",
    file: "lib/measure/downstream.ts",
    from: "const rate = learningRate * Math.sqrt(1 - 0.999 ** step) / (1 - 0.9 ** step);",
    to: "const rate = learningRate;",
  },
  {
    name: "softmax regression: the gradient summed over the rows",
    file: "lib/measure/downstream.ts",
    from: ".div(n).add(weights.mul(decay))",
    to: ".add(weights.mul(decay))",
  },
  {
    name: "softmax regression: the bias penalised",
    file: "lib/measure/downstream.ts",
    from: "tf.concat([tf.fill([dim, 1], l2), tf.zeros([1, 1])])",
    to: "tf.fill([dim + 1, 1], l2)",
  },
  {
    name: "softmax regression: standardised by the variance",
    file: "lib/measure/downstream.ts",
    from: "x.sub(center).square().mean(0).sqrt().add(1e-6)",
    to: "x.sub(center).square().mean(0).add(1e-6)",
  },
  {
    name: "gradient variance: Welford's update with the old mean",
    file: "lib/studies/reparam/encoder.ts",
    from: "this.#m2[i] += delta * (values[i] - this.#mean[i]);",
    to: "this.#m2[i] += delta * delta;",
  },
  {
    name: "gradient variance: divided by n",
    file: "lib/studies/reparam/encoder.ts",
    from: "variance += this.#m2[i] / (this.#n - 1);",
    to: "variance += this.#m2[i] / this.#n;",
  },
  {
    name: "gradient variance: the score function on other draws",
    file: "lib/studies/reparam/encoder.ts",
    from: ": scoreFunctionTerms(model, x, options).surrogate,",
    to: ": scoreFunctionTerms(model, x, { ...options, seed: options.seed + 1 }).surrogate,",
  },
  {
    name: "conditional: the reference digits by the samples' rows",
    file: "lib/studies/conditional.ts",
    from: "statsOf(real, rowsOf(realLabels, digit))",
    to: "statsOf(real, mine)",
  },
  {
    name: "conditional: the reference digits of the next class",
    file: "lib/studies/conditional.ts",
    from: "statsOf(real, rowsOf(realLabels, digit))",
    to: "statsOf(real, rowsOf(realLabels, (digit + 1) % 10))",
  },
  {
    name: "gan: fresh noise for the generator reuses the last critic draw",
    file: "lib/train/adversarial.ts",
    from: 'if (this.#config.generatorNoise === "fresh") z = draw(criticSteps);',
    to: 'if (this.#config.generatorNoise === "fresh") z = draw(criticSteps - 1);',
  },
  // Issue 32: claims over seeds, seeded grids.
  {
    name: "claims: the mean's margin taken off instead of added",
    file: "lib/studies/claims.ts",
    from: "return claimBelow(`${claim} (${how})`, mean + margin, limit);",
    to: "return claimBelow(`${claim} (${how})`, mean - margin, limit);",
  },
  {
    name: "claims: every seed measures the best seed",
    file: "lib/studies/claims.ts",
    from:
      'claimBelow(`${claim} (${seedsNote(values.length, "worst")})`, Math.max(...values), limit)',
    to: 'claimBelow(`${claim} (${seedsNote(values.length, "worst")})`, Math.min(...values), limit)',
  },
  {
    name: "seeds: every seed trains seed 0",
    file: "lib/studies/seeds.ts",
    from: "return { ...config, seed: config.seed + seed };",
    to: "return { ...config, seed: config.seed };",
  },
  {
    name: "spread: the standard deviation for the standard error",
    file: "lib/base/stats.ts",
    from: "return { mean: m, stdError: n > 1 ? Math.sqrt(ss / (n - 1) / n) : NaN };",
    to: "return { mean: m, stdError: n > 1 ? Math.sqrt(ss / (n - 1)) : NaN };",
  },
  {
    name: "fused gaussian pixels: 1/sigma for 1/sigma^2",
    file: "lib/base/heap_plan.ts",
    from: "? [1 / (scale * scale), d * (Math.log(scale) + 0.5 * Math.log(2 * Math.PI))]",
    to: "? [1 / scale, d * (Math.log(scale) + 0.5 * Math.log(2 * Math.PI))]",
  },
  {
    name: "fused laplace pixels: log b for log 2b",
    file: "lib/base/heap_plan.ts",
    from: ": [1 / scale, d * Math.log(2 * scale)];",
    to: ": [1 / scale, d * Math.log(scale)];",
  },
  {
    name: "ring: a high-quality sample within 2 standard deviations, not 3",
    file: "lib/studies/ring.ts",
    from: "const near = 3 * RING.std;",
    to: "const near = 2 * RING.std;",
  },
  {
    name: "ring: the first snapshot counted as a change of mode",
    file: "lib/studies/ring.ts",
    from: "hops: dominant.filter((m, i) => i > 0 && m !== dominant[i - 1]).length,",
    to: "hops: dominant.filter((m, i) => m !== dominant[i - 1]).length,",
  },
  {
    name: "ring: the unrolled steps of D climb its loss",
    file: "lib/studies/ring_gan.ts",
    from: "dk = dk.map((w, i) => tf.sub(w, tf.mul(grads[i], rate)));",
    to: "dk = dk.map((w, i) => tf.add(w, tf.mul(grads[i], rate)));",
  },
  {
    name: "ring: the look-ahead on a copy of the generated points (no second-order term)",
    file: "lib/studies/ring_gan.ts",
    from: "const grads = tf.grads((...w: tf.Tensor[]) => ringCriticLoss(w, real, fake))(dk);",
    to:
      "const grads = tf.grads((...w: tf.Tensor[]) => ringCriticLoss(w, real, tf.tensor2d(fake.arraySync())))(dk);",
  },
  {
    name: "ring: runs in workers stored in the order they finish",
    file: "lib/studies/ring_gan.ts",
    from: "results[i] = concurrency === 1",
    to: "results[finished] = concurrency === 1",
  },
  {
    name: "projection cGAN: the label's embedding read for the reversed one-hot",
    file: "lib/model/adversarial.ts",
    from: "tf.matMul(label, embedding[0])",
    to: "tf.matMul(tf.reverse(label, 1), embedding[0])",
  },
  {
    name: "generatorNorm: the normalisation after the ReLU",
    file: "lib/model/adversarial.ts",
    from: "tf.relu(norms.length ? batchNorm(h, norms[i][0], norms[i][1]) : h) as tf.Tensor2D;",
    to:
      "(norms.length ? batchNorm(tf.relu(h), norms[i][0], norms[i][1]) : tf.relu(h)) as tf.Tensor2D;",
  },
  {
    name: "feature matching: absolute instead of squared differences of the mean features",
    file: "lib/model/losses.ts",
    from: "return tf.sum(tf.square(tf.sub(target, tf.mean(features(fake), 0)))) as tf.Scalar;",
    to: "return tf.sum(tf.abs(tf.sub(target, tf.mean(features(fake), 0)))) as tf.Scalar;",
  },
  {
    name: "minibatch discrimination: squared instead of L1 distances between the rows",
    file: "lib/model/adversarial.ts",
    from:
      "const distance = tf.sum(tf.abs(tf.sub(m, tf.reshape(m, [1, n, -1, MINIBATCH_DIMS]))), 3);",
    to:
      "const distance = tf.sum(tf.square(tf.sub(m, tf.reshape(m, [1, n, -1, MINIBATCH_DIMS]))), 3);",
  },
  {
    name: "VAE-GAN: beta weighs the feature error instead of the KL",
    file: "lib/train/vaegan_step.ts",
    from: "tf.add(beta === 1 ? kl : tf.mul(kl, beta), feature)",
    to: "tf.add(kl, beta === 1 ? feature : tf.mul(feature, beta))",
  },
  {
    name: "digitShares: each sample counted as a tenth",
    file: "lib/measure/quality.ts",
    from: "for (const digit of read) shares[digit] += 1 / read.length;",
    to: "for (const digit of read) shares[digit] += 1 / NUM_CLASSES;",
  },
  {
    name: "criticLabelReading: the own label against the mean of all ten",
    file: "lib/studies/conditional.ts",
    from: "gap += own - (row.reduce((a, b) => a + b, 0) - own) / (NUM_CLASSES - 1);",
    to: "gap += own - row.reduce((a, b) => a + b, 0) / NUM_CLASSES;",
  },
];

async function run(args: string[], cwd: string): Promise<{ ok: boolean; output: string }> {
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
  return { ok: result.success, output: text };
}

/**
 * The mutations `args` choose: those whose name contains one of the words, or whose file is one
 * of `--files a.ts,b.ts` (both when both are given); every mutation when neither is.
 */
export function chooseMutations(args: string[], mutations = MUTATIONS): Mutation[] {
  const { values, positionals } = parseArgs({
    args,
    options: { files: { type: "string", multiple: true } },
    allowPositionals: true,
  });
  const files = (values.files ?? []).flatMap((f) => f.split(",")).map((f) => f.trim());
  const unknown = files.filter((f) => !mutations.some((m) => m.file === f));
  if (unknown.length) {
    throw new RangeError(`no mutation changes ${unknown.join(", ")}`);
  }
  return mutations.filter((m) =>
    (positionals.length === 0 || positionals.some((w) => m.name.includes(w))) &&
    (files.length === 0 || files.includes(m.file))
  );
}

/** Every `*_test.ts` under `dir`, relative to it, in sorted order (folders walked). */
export function testFiles(dir: string, prefix = ""): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync(join(dir, prefix))) {
    const path = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory) found.push(...testFiles(dir, path));
    else if (entry.name.endsWith("_test.ts")) found.push(path);
  }
  return found.sort();
}

async function main(args: string[]): Promise<number> {
  const chosen = chooseMutations(args);
  const copy = await Deno.makeTempDir({ prefix: "vaelab-mutants-" });
  for (
    const entry of [
      "lib",
      "tests",
      "tools",
      "notebooks",
      "results",
      "deno.json",
      "deno.lock",
      "README.md",
    ]
  ) {
    await new Deno.Command("cp", { args: ["-r", join(ROOT, entry), copy] }).output();
  }
  await Deno.symlink(join(ROOT, "node_modules"), join(copy, "node_modules"));
  // The runner's fault tests need Jupyter; the mutation list's own test fails on any mutated copy.
  const tests = testFiles(join(ROOT, "tests"))
    .filter((n) => !EXCLUDED_TESTS.includes(n))
    .map((n) => `tests/${n}`);
  const base = await run(["test", "-A", "--no-check", ...tests], copy);
  if (!base.ok) {
    console.error(`the unmutated tests fail:\n${base.output.slice(-3000)}`);
    return 1;
  }
  const survivors: string[] = [];
  for (const [i, m] of chosen.entries()) {
    const path = join(copy, m.file);
    const source = await Deno.readTextFile(path);
    if (source.split(m.from).length !== 2) {
      console.error(`${m.name}: "${m.from}" must occur exactly once in ${m.file}`);
      return 1;
    }
    await Deno.writeTextFile(path, source.replace(m.from, m.to));
    const started = performance.now();
    const result = await run(["test", "-A", "--no-check", ...tests], copy);
    await Deno.writeTextFile(path, source);
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    const failed = [...result.output.matchAll(/^(.+?) => \.\/tests\/\S+$/gm)].map((x) => x[1]);
    const unique = [...new Set(failed)];
    const verdict = result.ok
      ? "SURVIVED"
      : `killed by ${unique.length} test(s): ${unique[0] ?? "(a crash)"}`.slice(0, 150);
    console.log(
      `${String(i + 1).padStart(2)}/${chosen.length} ${m.name.padEnd(42)} ${
        seconds.padStart(3)
      } s  ${verdict}`,
    );
    if (result.ok) survivors.push(m.name);
  }
  await Deno.remove(copy, { recursive: true });
  console.log(
    `mutations: ${chosen.length - survivors.length} of ${chosen.length} killed` +
      (survivors.length ? `; survived: ${survivors.join("; ")}` : ""),
  );
  return survivors.length ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
