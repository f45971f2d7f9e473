/**
 * How every model makes its variables: seeded, initialised like PyTorch's layers, named uniquely
 * in the engine and by a stable layer name in saved weights.
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/**
 * A weight initialised like PyTorch's default for a layer of `fanIn` inputs:
 * U(-1/sqrt(fanIn), 1/sqrt(fanIn)), so results compare with PyTorch's recipe.
 */
function uniformVariable(shape: number[], fanIn: number, seed: number, name: string): tf.Variable {
  const bound = 1 / Math.sqrt(fanIn);
  return tf.tidy(() =>
    tf.variable(tf.randomUniform(shape, -bound, bound, "float32", seed), true, name)
  );
}

let modelCount = 0;

/** What {@linkcode variableMaker} returns: PyTorch-initialised variables, and constant ones. */
export interface VariableMaker {
  /** U(-1/sqrt(fanIn), 1/sqrt(fanIn)) of `shape`. */
  (shape: number[], fanIn: number): tf.Variable;
  /** A variable holding `value` everywhere (batch normalisation's scale 1 and shift 0). */
  filled(shape: number[], value: number): tf.Variable;
  /** A variable of N(0, std^2) draws (a mixture prior's means). */
  normal(shape: number[], std: number): tf.Variable;
}

/**
 * Makes variables with distinct seeds derived from the model's seed: seed * 1000 + 1, + 2, ...
 * A second maker for the same model (a critic, a prior) starts at `first` + 1 instead of 1.
 */
export function variableMaker(
  config: { kind: string; arch: string; seed: number },
  first = 0,
): VariableMaker {
  // Variable names must be unique in the engine, so each model gets its own prefix.
  const prefix = `${config.kind}_${config.arch}_${modelCount++}`;
  let index = first;
  const next = () => {
    index += 1;
    return { seed: config.seed * 1000 + index, name: `${prefix}_${index}` };
  };
  const make = ((shape: number[], fanIn: number) => {
    const { seed, name } = next();
    return uniformVariable(shape, fanIn, seed, name);
  }) as VariableMaker;
  make.filled = (shape, value) => {
    const { name } = next();
    return tf.tidy(() => tf.variable(tf.fill(shape, value), true, name));
  };
  make.normal = (shape, std) => {
    const { seed, name } = next();
    return tf.tidy(() => tf.variable(tf.randomNormal(shape, 0, std, "float32", seed), true, name));
  };
  return make;
}

/** `<layer>.kernel` and `<layer>.bias` for each layer (a convolution's kernel is its filter). */
export function layerNames(layers: readonly string[]): string[] {
  return layers.flatMap((layer) => [`${layer}.kernel`, `${layer}.bias`]);
}
