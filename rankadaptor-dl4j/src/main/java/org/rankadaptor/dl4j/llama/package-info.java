/**
 * The LLaMA model on ND4J: its shapes, its weights, its adapters, and every computation on them.
 *
 * <ul>
 *   <li>Shapes and weights: {@link org.rankadaptor.dl4j.llama.LlamaConfig} with one {@link
 *       org.rankadaptor.dl4j.llama.LayerShape} per layer (a pruned model's layers differ), {@link
 *       org.rankadaptor.dl4j.llama.LlamaWeights} and {@link org.rankadaptor.dl4j.llama.LayerWeights},
 *       records that comment each component's shape and check it once on construction.
 *   <li>Adapters: LoRA ({@link org.rankadaptor.dl4j.llama.LoraAdapter}, {@link
 *       org.rankadaptor.dl4j.llama.LoraAdapters}, {@link org.rankadaptor.dl4j.llama.LoraMerge}) and AdaLoRA
 *       ({@link org.rankadaptor.dl4j.llama.SvdAdapter}, {@link org.rankadaptor.dl4j.llama.AdaLoraAdapters}),
 *       keyed by {@link org.rankadaptor.dl4j.io.LoraTarget}; {@link org.rankadaptor.dl4j.llama.PeftAdapters}
 *       converts them to and from PEFT's adapter files.
 *   <li>Computation: {@link org.rankadaptor.dl4j.llama.LlamaModel} holds the weights and the forward pass,
 *       and scores with it (logits, {@link org.rankadaptor.dl4j.llama.LlamaModel#scoreContinuations
 *       continuation log-likelihoods}, loss), the one log-likelihood primitive every evaluator uses;
 *       beside it the package-private {@code Backward} is the explicit backward pass behind its
 *       gradients ({@link org.rankadaptor.dl4j.llama.LoraGradients}, {@link
 *       org.rankadaptor.dl4j.llama.WeightGradients}), and {@link
 *       org.rankadaptor.dl4j.llama.LlamaGenerator} generates with a KV cache and a {@code Sampler}
 *       (greedy, temperature, top-p) under {@link org.rankadaptor.dl4j.llama.GenerationSettings}.
 *   <li>Loading and saving: {@link org.rankadaptor.dl4j.llama.LlamaCheckpoints} reads Hugging Face model
 *       folders and llama2.c checkpoints and writes Hugging Face folders; the package-private {@code
 *       RotaryLayout} converts query/key rows between the two RoPE orders.
 *   <li>Hot loops, fenced off and package-private: {@code Ops} (each operation with its backward, checked
 *       against central differences by {@code OpsGradientTest}), {@code Kernels} (fused host loops with a
 *       float64 twin, checked by {@code KernelsTest}) and {@code NdOps} (the same operations as ND4J
 *       calls, for backends whose buffers live on a device, checked by {@code NdOpsTest}). {@link
 *       org.rankadaptor.dl4j.llama.Workspaces} holds the ND4J workspaces of repeated passes.
 * </ul>
 *
 * <p>Not here: file formats as bytes (safetensors, config.json, PEFT files, llama2.c) are in {@code
 * org.rankadaptor.dl4j.io}, which this package reads and writes through; pruning, recovery training,
 * evaluation and the performance predictor are in {@code prune}, {@code recover}, {@code eval} and
 * {@code predictor}, which use this package and are never used by it.
 */
package org.rankadaptor.dl4j.llama;
