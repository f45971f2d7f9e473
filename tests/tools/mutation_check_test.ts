import { assert, assertEquals, assertThrows } from "@std/assert";
import { chooseMutations, MUTATIONS } from "../../tools/mutation_check.ts";

Deno.test("every mutation's text occurs exactly once in its file (the list keeps up with the code)", () => {
  const stale = MUTATIONS.filter((m) => {
    const source = Deno.readTextFileSync(new URL(`../../${m.file}`, import.meta.url));
    return source.split(m.from).length !== 2;
  }).map((m) => `${m.name} (${m.file})`);
  assertEquals(stale, []);
  assertEquals(new Set(MUTATIONS.map((m) => m.name)).size, MUTATIONS.length, "names are unique");
});

Deno.test("chooseMutations() picks by words in the name, by --files, or both", () => {
  assertEquals(chooseMutations([]), MUTATIONS);
  const vq = chooseMutations(["vq-vae:"]);
  assert(vq.length >= 3 && vq.every((m) => m.name.startsWith("vq-vae:")));
  const inFile = chooseMutations(["--files", "lib/model/vqvae.ts"]);
  assert(inFile.length >= 3 && inFile.every((m) => m.file === "lib/model/vqvae.ts"));
  const two = chooseMutations(["--files", "lib/model/vqvae.ts,lib/train/vaegan_step.ts"]);
  const vaegan = MUTATIONS.filter((m) => m.file === "lib/train/vaegan_step.ts").length;
  assertEquals(two.length, inFile.length + vaegan);
  assertEquals(chooseMutations(["--files", "lib/model/vqvae.ts", "code use"]).map((m) => m.name), [
    "vq-vae: code use counts the last code twice",
  ]);
  assertThrows(
    () => chooseMutations(["--files", "lib/nowhere.ts"]),
    RangeError,
    "no mutation changes lib/nowhere.ts",
  );
});
