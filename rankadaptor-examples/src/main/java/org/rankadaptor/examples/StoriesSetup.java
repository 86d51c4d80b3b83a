package org.rankadaptor.examples;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Path;
import org.rankadaptor.dl4j.recover.RecoveredModel;
import org.rankadaptor.spark.FineTuneSetup;

/**
 * The stories260K test bed as a value a Spark executor rebuilds: the shared data folder, the pruning
 * setting and the recovery's length. The same value builds the same pruned model, data and evaluator
 * wherever it is built.
 *
 * @param data the shared data folder (models/, text/)
 * @param cacheDir where sampled recovery stories are kept
 * @param setting the pruning setting, {@code width:SHARE}, {@code width-global:SHARE} or {@code depth:BLOCKS}
 * @param steps optimiser steps per recovery
 * @param generatedStories stories sampled from the unpruned model for the recovery data
 * @param seed seed of the data split and the pruning calibration
 */
record StoriesSetup(String data, String cacheDir, String setting, int steps, int generatedStories, long seed)
    implements FineTuneSetup<RecoveredModel> {
  private static final long serialVersionUID = 1L;

  /** The test bed and its pruned model, printing progress to {@code err}. */
  record Prepared(StoriesTestBed bed, StoriesTestBed.Pruned pruned) {
    /** The runner of the pruned model and the target's evaluator. */
    Built<RecoveredModel> built(PrintWriter err) {
      return new Built<>(bed.runner(pruned.model(), err), bed.target);
    }
  }

  Prepared prepare(PrintWriter err) throws IOException {
    PruningSetting pruning = PruningSetting.parse(setting)
        .orElseThrow(() -> new IllegalArgumentException("not a pruning setting: '" + setting + "'"));
    StoriesTestBed bed = StoriesTestBed.load(new TestBedOptions(), Path.of(data), Path.of(cacheDir), steps,
        generatedStories, seed, err);
    return new Prepared(bed, bed.prune(pruning, err));
  }

  @Override
  public Built<RecoveredModel> build() {
    PrintWriter quiet = new PrintWriter(Writer.nullWriter());
    try {
      return prepare(quiet).built(quiet);
    } catch (IOException e) {
      throw new UncheckedIOException("the executor could not load the test bed: " + e.getMessage(), e);
    }
  }
}
