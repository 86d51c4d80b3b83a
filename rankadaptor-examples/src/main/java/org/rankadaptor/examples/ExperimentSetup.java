package org.rankadaptor.examples;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.rankadaptor.dl4j.recover.RecoverySettings;

/**
 * How an experiment was run: what its report's Setup section and {@code experiment.json} record beside
 * the measurements.
 *
 * @param model the unpruned model
 * @param command the command's arguments, as given
 * @param seed seed of every random choice
 * @param heldOutSeeds recovery seeds of the held-out measurements
 * @param zeroShotSeeds how many of those the zero-shot tasks are measured with
 * @param evaluations target fine-tunes per search, at most
 * @param sourceConfigs configurations recovered on the source tasks
 * @param metaIterations Reptile iterations of the MLP's meta-learning
 * @param convergence the paper's protocol's convergence threshold
 * @param steps optimiser steps per recovery
 * @param evalItems items per zero-shot task (0: all)
 * @param generatedStories stories sampled from the unpruned model for the recovery text
 * @param recovery the recovery settings
 * @param recoveryExamples examples of the recovery data
 * @param recoveryFingerprint the recovery data's fingerprint
 * @param textParts recovery, validation and test text
 * @param chance each zero-shot task's chance accuracy, in table order
 * @param started when the run started
 * @param finished when it finished
 * @param files its input files by name, in the order the report lists them
 */
record ExperimentSetup(
    TestModel model,
    String command,
    long seed,
    long[] heldOutSeeds,
    int zeroShotSeeds,
    int evaluations,
    int sourceConfigs,
    int metaIterations,
    double convergence,
    int steps,
    int evalItems,
    int generatedStories,
    RecoverySettings recovery,
    int recoveryExamples,
    String recoveryFingerprint,
    List<String> textParts,
    Map<String, Double> chance,
    Instant started,
    Instant finished,
    Map<String, Path> files) {

  /**
   * The unpruned model of the test bed.
   *
   * @param name as {@code --model} names it
   * @param description what it is and where it comes from, for the report's setup
   * @param firstLayer the first layer pruning touches (0-based)
   * @param lastLayer the last such layer
   */
  record TestModel(String name, String description, int firstLayer, int lastLayer) {}
}
