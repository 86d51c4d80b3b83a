/**
 * File formats, and nothing of the model: bytes and tensors in, bytes and tensors out.
 *
 * <ul>
 *   <li>safetensors: {@link org.rankadaptor.dl4j.io.SafetensorsSource} opens a single file ({@link
 *       org.rankadaptor.dl4j.io.SafetensorsFile}) or a sharded checkpoint ({@link
 *       org.rankadaptor.dl4j.io.ShardedSafetensors}) and reads one tensor at a time as float or double;
 *       {@link org.rankadaptor.dl4j.io.SafetensorsWriter} writes F32, F16, BF16 or F64 with metadata.
 *       Models, adapters and pruned checkpoints all go through these two; the header's parsing and
 *       validation sit apart in a package-private {@code SafetensorsHeader}.
 *   <li>llama2.c: {@link org.rankadaptor.dl4j.io.Llama2cCheckpoint} (the {@code .bin} model) and {@link
 *       org.rankadaptor.dl4j.io.Llama2cTokenizer}.
 *   <li>Hugging Face: {@link org.rankadaptor.dl4j.io.HfLlamaConfig} ({@code config.json}, with per-layer
 *       shapes for pruned models) and {@link org.rankadaptor.dl4j.io.HfTokenizer} ({@code
 *       tokenizer.json}).
 *   <li>PEFT: {@link org.rankadaptor.dl4j.io.PeftLoraAdapter} with {@link
 *       org.rankadaptor.dl4j.io.PeftLoraConfig} and {@link org.rankadaptor.dl4j.io.LoraModuleWeights}, and
 *       AdaLoRA's {@link org.rankadaptor.dl4j.io.PeftAdaLoraAdapter}. {@link
 *       org.rankadaptor.dl4j.io.LoraTarget} names the seven adaptable projections with their Hugging Face
 *       names, for these files and for the model alike.
 * </ul>
 *
 * <p>Every reader bounds what it reads before allocating and reports malformed input as a {@link
 * org.rankadaptor.dl4j.io.FileFormatException} naming the file and the tensor or field; its subtypes
 * {@link org.rankadaptor.dl4j.io.SafetensorsFormatException} and {@link
 * org.rankadaptor.dl4j.io.CheckpointFormatException} (llama2.c files) say which format was read.
 */
package org.rankadaptor.dl4j.io;
