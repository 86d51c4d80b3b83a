package org.rankadaptor.examples;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Which model a stories test bed measures, as options shared by the commands that use the test bed:
 * {@code stories260K} from the shared data, or the deeper model the project pretrains from it and caches.
 */
final class TestBedOptions {

  /** The test bed's models. */
  enum ModelName {
    /** The shared 5-layer {@code stories260K}, layers 1..3 pruned. */
    stories260K,
    /** The project's deeper model, every layer but the first and the last two pruned. */
    deep
  }

  @Option(names = "--model", defaultValue = "stories260K", paramLabel = "MODEL",
      description = "stories260K (the shared 5-layer model, layers 1..3 pruned) or deep (a 12-layer model with "
          + "grouped-query attention that `rankadaptor pretrain` builds from stories260K's stories and caches; every "
          + "layer but the first and the last two pruned) (default: ${DEFAULT-VALUE}).")
  ModelName model = ModelName.stories260K;

  @Mixin DeepModelOptions deep = new DeepModelOptions();

  /** The first layer width pruning prunes and depth pruning may remove (0-based). */
  int firstLayer() {
    return 1;
  }

  /**
   * The last such layer: 3 of stories260K's 5 (as its committed measurements were made); of the deep model,
   * all but the last two, as LLM-Pruner keeps the first and the last layers of LLaMA-7B.
   */
  int lastLayer() {
    return model == ModelName.deep ? deep.layers - 3 : 3;
  }

  /** Why the options are wrong, or null when they are fine. */
  String problem() {
    return model == ModelName.deep ? deep.problem() : null;
  }
}
