package org.rankadaptor.dl4j.llama;

/**
 * The loss of one micro-batch and its gradients with respect to every LoRA A and B.
 *
 * @param loss mean next-token cross-entropy over the target tokens
 * @param targetCount number of target tokens the mean is over
 * @param gradients dLoss/dA and dLoss/dB in the shape of the adapters (scaling as in the adapters)
 * @since 0.1.0
 */
public record LoraGradients(double loss, int targetCount, LoraAdapters gradients) {}
