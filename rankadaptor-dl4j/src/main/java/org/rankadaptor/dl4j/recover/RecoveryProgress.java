package org.rankadaptor.dl4j.recover;

import org.rankadaptor.RankConfig;

/**
 * Where a recovery stands after an optimiser step.
 *
 * @param config the ranks being recovered
 * @param step steps taken
 * @param totalSteps steps the run will take
 * @param loss this step's mean training loss
 * @param learningRate this step's learning rate
 * @param tokensPerSecond training tokens per second so far
 * @param secondsLeft estimated training time left, from the time per step so far (validation excluded)
 * @since 0.1.0
 */
public record RecoveryProgress(
    RankConfig config,
    int step,
    int totalSteps,
    double loss,
    double learningRate,
    double tokensPerSecond,
    double secondsLeft) {}
