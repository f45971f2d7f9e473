/**
 * Diagonal Gaussians in latent space: their log-density, their KL to N(0, I), the
 * reparameterisation trick, and seeded normal draws that a shard of a batch can share.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  GAUSSIAN_KL_GRAD_KERNEL,
  GAUSSIAN_KL_KERNEL,
  hasKernel,
  normalSeed,
  REPARAMETERIZE_GRAD_KERNEL,
  REPARAMETERIZE_KERNEL,
} from "../base/mod.ts";
import { customOp } from "./layers.ts";

/** log(2 pi) / 2. */
export const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/**
 * KL(N(mean, exp(logVar)) || N(0, I)) = -1/2 sum_j (1 + logVar_j - mean_j^2 - exp(logVar_j)). [B].
 * Its own gradient: d/dmean = mean, d/dlogVar = (exp(logVar) - 1) / 2 (one pass each way on
 * wasm).
 */
export function gaussianKl(mean: tf.Tensor2D, logVar: tf.Tensor2D): tf.Tensor1D {
  return customOp<tf.Tensor1D>(([mean, logVar], save) => {
    save([mean, logVar]);
    return {
      value: fused(GAUSSIAN_KL_KERNEL, { mean, logVar }, () => {
        const terms = tf.sub(tf.sub(tf.add(logVar, 1), tf.square(mean)), tf.exp(logVar));
        return tf.mul(tf.sum(terms, 1), -0.5) as tf.Tensor1D;
      }),
      gradFunc: (dkl, [mean, logVar]) => {
        if (hasKernel(GAUSSIAN_KL_GRAD_KERNEL)) {
          const inputs = { mean, logVar, dkl };
          return tf.engine().runKernel(GAUSSIAN_KL_GRAD_KERNEL, inputs) as tf.Tensor[];
        }
        const d = tf.expandDims(dkl, 1);
        return [tf.mul(d, mean), tf.mul(tf.mul(d, tf.sub(tf.exp(logVar), 1)), 0.5)];
      },
    };
  })(mean, logVar);
}

/** Our kernel `name` on `inputs` where the backend has it and their shapes agree, else `f`. */
function fused<T extends tf.Tensor>(
  name: string,
  inputs: Record<string, tf.Tensor>,
  f: () => T,
): T {
  const tensors = Object.values(inputs);
  const alike = tensors.every((t) => t.shape.join() === tensors[0].shape.join());
  if (alike && hasKernel(name)) return tf.engine().runKernel(name, inputs) as T;
  return tf.tidy(f);
}

/** log N(z; mean, exp(logVar)) summed over dimensions. z, mean, logVar [B, L] -> [B]. */
export function gaussianLogDensity(
  z: tf.Tensor2D,
  mean: tf.Tensor2D,
  logVar: tf.Tensor2D,
): tf.Tensor1D {
  return tf.tidy(() => {
    const dim = z.shape[1];
    const scaled = tf.mul(tf.squaredDifference(z, mean), tf.exp(tf.neg(logVar)));
    return tf.sub(
      tf.mul(tf.sum(tf.add(scaled, logVar), 1), -0.5),
      dim * HALF_LOG_TWO_PI,
    ) as tf.Tensor1D;
  });
}

/** log N(z; 0, I) summed over dimensions. z [B, L] -> [B]. */
export function standardNormalLogDensity(z: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() =>
    tf.sub(tf.mul(tf.sum(tf.square(z), 1), -0.5), z.shape[1] * HALF_LOG_TWO_PI) as tf.Tensor1D
  );
}

/**
 * The reparameterisation trick: z = mean + exp(logVar / 2) * eps, with eps [B, L] ~ N(0, I). Its
 * own gradient: d/dmean = 1, d/dlogVar = eps exp(logVar / 2) / 2 (one pass each way on wasm).
 */
export function reparameterize(
  mean: tf.Tensor2D,
  logVar: tf.Tensor2D,
  eps: tf.Tensor2D,
): tf.Tensor2D {
  // eps is a constant of the op (the noise, not a parameter), saved for the backward pass.
  return customOp<tf.Tensor2D>(([mean, logVar], save) => {
    save([logVar, eps]);
    return {
      value: fused(
        REPARAMETERIZE_KERNEL,
        { mean, logVar, eps },
        () => tf.add(mean, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps)) as tf.Tensor2D,
      ),
      gradFunc: (dz, [logVar, eps]) => {
        const dLogVar = fused(
          REPARAMETERIZE_GRAD_KERNEL,
          { logVar, eps, dz },
          () => tf.mul(tf.mul(tf.mul(dz, eps), tf.exp(tf.mul(logVar, 0.5))), 0.5) as tf.Tensor2D,
        );
        return [dz, dLogVar];
      },
    };
  })(mean, logVar);
}

/** Where a shard's rows sit in its batch: rows [offset, offset + rows) of `total`. */
export interface BatchRows {
  offset: number;
  total: number;
}

/** Options of {@linkcode shardNormal}. */
export interface ShardNormalOptions {
  /** Rows of the draw (the shard's rows). */
  rows: number;
  /** Columns of the draw. */
  columns: number;
  /** Seed of the draw; default none (unseeded). */
  seed?: number;
  /** Where the rows sit in the whole batch; default the whole batch is these rows. */
  shard?: BatchRows;
  /** Standard deviation; default 1. */
  std?: number;
}

/**
 * N(0, std^2) draws of shape [shard.total, columns] from `seed`, cut to the shard's rows: a shard
 * of a batch sees the noise the whole batch would.
 * @example
 * ```ts
 * const eps = shardNormal({ rows: 64, columns: 20, seed: 3, shard: { offset: 64, total: 128 } });
 * ```
 */
export function shardNormal(options: ShardNormalOptions): tf.Tensor2D {
  const { rows, columns, seed, std = 1 } = options;
  const shard = options.shard ?? { offset: 0, total: rows };
  if (shard.offset === 0 && shard.total === rows) {
    return tf.randomNormal([rows, columns], 0, std, "float32", normalSeed(seed));
  }
  return tf.tidy(() => {
    const whole = tf.randomNormal([shard.total, columns], 0, std, "float32", normalSeed(seed));
    return tf.slice(whole, [shard.offset, 0], [rows, columns]) as tf.Tensor2D;
  });
}
