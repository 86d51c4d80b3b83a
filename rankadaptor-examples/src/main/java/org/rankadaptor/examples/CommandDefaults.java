package org.rankadaptor.examples;

/**
 * The defaults of the options several commands share, stated once. Values every command shares are
 * constants the option annotations name; where commands differ (a demo should finish in minutes, {@code run}
 * follows the paper), each command's values are one named preset that its {@link SharedOptions.Search}
 * starts from.
 */
final class CommandDefaults {

  /** The shared data folder, beside the repository. */
  static final String DATA = "../shared/data";

  /** The seed of every random choice. */
  static final String SEED = "42";

  /** Optimiser steps per recovery of the stories test bed (table, parallel). */
  static final String TEST_BED_STEPS = "24";

  /** Stories sampled from the unpruned model and added to the recovery text (experiment, table). */
  static final String GENERATED_STORIES = "48";

  /** Fine-tunes per timed search of {@code parallel}. */
  static final String PARALLEL_EVALUATIONS = "12";

  /** The pruning setting one search or table measures (table, parallel). */
  static final String SETTING = "width:0.50";

  /**
   * A command's search defaults.
   *
   * @param evaluations target fine-tunes per search, replicates included
   * @param sourceConfigs configurations recovered and measured on each source task
   * @param metaIterations Reptile iterations of the MLP's meta-learning (the paper's 400)
   * @param steps optimiser steps per recovery; 0: the recovery preset's
   */
  record SearchPreset(int evaluations, int sourceConfigs, int metaIterations, int steps) {}

  /** {@code demo}: a small budget, so that the first screen's command finishes in minutes. */
  static final SearchPreset DEMO = new SearchPreset(8, 4, 100, 24);

  /** {@code run}: the paper's meta-learning and the recovery preset's steps. */
  static final SearchPreset RUN = new SearchPreset(10, 3, 400, 0);

  /** {@code experiment}: the committed experiments' settings. */
  static final SearchPreset EXPERIMENT = new SearchPreset(12, 5, 100, 24);

  private CommandDefaults() {}
}
