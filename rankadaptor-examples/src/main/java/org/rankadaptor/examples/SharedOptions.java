package org.rankadaptor.examples;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options several commands share, as picocli mixins (the way Jlama's {@code BaseCommand} shares its
 * options): each declared once, with its defaults from {@link CommandDefaults}. Validation stays with the
 * commands, which know which values they accept.
 */
final class SharedOptions {

  private SharedOptions() {}

  /** {@code --data}: the shared data folder. */
  static final class Data {
    @Option(names = "--data", defaultValue = CommandDefaults.DATA, paramLabel = "DIR",
        description = "The shared data folder (models/, text/, tasks/) (default: ${DEFAULT-VALUE}).")
    Path data;
  }

  /** {@code --out}: the output folder, required. */
  static final class Output {
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder.")
    Path outputDir;
  }

  /** {@code --cache}: where the models the project pretrains (the demo's, the deep test model) are kept. */
  static final class Cache {
    @Option(names = "--cache", paramLabel = "DIR",
        description = "Where the models the project pretrains are kept (default: ~/.cache/rankadaptor).")
    Path cache;

    /** The cache folder: {@code --cache}, or {@code ~/.cache/rankadaptor}. */
    Path root() {
      return cache != null ? cache : Path.of(System.getProperty("user.home"), ".cache", "rankadaptor");
    }
  }

  /** {@code --seed}: the seed of every random choice. */
  static final class Seed {
    @Option(names = "--seed", defaultValue = CommandDefaults.SEED,
        description = "Seed of every random choice (default: ${DEFAULT-VALUE}).")
    long seed;
  }

  /** {@code --setting} and {@code --steps}: one pruning setting of the stories test bed, and how long each recovery runs. */
  static final class TestBedSetting {
    @Option(names = "--setting", defaultValue = CommandDefaults.SETTING, paramLabel = "SETTING",
        description = "width:SHARE, width-global:SHARE or depth:BLOCKS, as in the experiment (default: ${DEFAULT-VALUE}).")
    String setting;

    @Option(names = "--steps", defaultValue = CommandDefaults.TEST_BED_STEPS,
        description = "Optimiser steps per recovery (default: ${DEFAULT-VALUE}).")
    int steps;
  }

  /**
   * The search's budget, meta-learning and recovery length, with a command's preset as defaults (picocli
   * shows a field's initial value as its default).
   */
  static final class Search {
    @Option(names = "--evaluations",
        description = "Budget of target fine-tunes of a search, replicates included (default: ${DEFAULT-VALUE}).")
    int evaluations;

    @Option(names = "--source-configs",
        description = "Configurations recovered and measured on the source tasks (default: ${DEFAULT-VALUE}).")
    int sourceConfigs;

    @Option(names = "--meta-iterations",
        description = "Reptile iterations of the MLP's meta-learning (default: ${DEFAULT-VALUE}; the paper's 400).")
    int metaIterations;

    @Option(names = "--steps",
        description = "Optimiser steps per recovery (default: ${DEFAULT-VALUE}; 0, where a command allows it: the "
            + "recovery preset's).")
    int steps;

    Search(CommandDefaults.SearchPreset preset) {
      evaluations = preset.evaluations();
      sourceConfigs = preset.sourceConfigs();
      metaIterations = preset.metaIterations();
      steps = preset.steps();
    }
  }
}
