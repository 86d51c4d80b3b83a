package org.rankadaptor.dl4j.llama;

/**
 * The loss of one batch and its gradients with respect to every base weight, for importance estimation.
 *
 * @param loss mean next-token cross-entropy over the target tokens
 * @param targetCount number of target tokens the mean is over
 * @param gradients dLoss/dW in the shape of the weights; with a tied classifier, {@code tokenEmbedding}
 *     and {@code classifier} are the same array holding the sum of both uses
 * @since 0.1.0
 */
public record WeightGradients(double loss, int targetCount, LlamaWeights gradients) {}
