package org.rankadaptor.examples;

import java.nio.file.Path;
import org.rankadaptor.examples.pretrain.DeepStoriesModel;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The deep test model's options, shared by the commands that build or use it. */
final class DeepModelOptions {

  /** The deep model is one model whatever seed an experiment runs with. */
  static final long DEEP_MODEL_SEED = 42;

  @Mixin SharedOptions.Cache cache = new SharedOptions.Cache();

  @Option(names = "--deep-layers", defaultValue = "12", paramLabel = "N",
      description = "Layers of the deep model (default: ${DEFAULT-VALUE}).")
  int layers = 12;

  @Option(names = "--pretrain-steps", defaultValue = "900", paramLabel = "N",
      description = "Pretraining steps of the deep model (default: ${DEFAULT-VALUE}).")
  int steps = 900;

  @Option(names = "--pretrain-stories", defaultValue = "4000", paramLabel = "N",
      description = "Stories sampled from stories260K to pretrain the deep model on (default: ${DEFAULT-VALUE}).")
  int stories = 4000;

  Path cacheRoot() {
    return cache.root();
  }

  /** The deep model's settings: the default's, with these layers, steps and stories. */
  DeepStoriesModel.Settings settings() {
    return DeepStoriesModel.Settings.defaults(DEEP_MODEL_SEED).with(layers, steps, stories);
  }

  /** Why the options are wrong, or null when they are fine. */
  String problem() {
    if (layers < 4) {
      return "--deep-layers must be at least 4 (the first and the last two layers are kept), got " + layers;
    }
    if (steps < 1 || stories < 1) {
      return "--pretrain-steps and --pretrain-stories must be at least 1";
    }
    return null;
  }
}
