package org.rankadaptor;

import java.util.List;
import java.util.function.Consumer;

/** {@link EvaluationExecutor#sequential()}: each fine-tune on the calling thread, in order. */
final class SequentialExecutor implements EvaluationExecutor {
  static final SequentialExecutor INSTANCE = new SequentialExecutor();

  private SequentialExecutor() {}

  @Override
  public <M> void run(List<FineTune> batch, RecoveryRunner<M> runner, Evaluator<M> evaluator,
      Consumer<Observation> finished) {
    for (FineTune fineTune : batch) {
      finished.accept(fineTune.run(runner, evaluator));
    }
  }

  @Override
  public int parallelism() {
    return 1;
  }

  @Override
  public String describe() {
    return "sequential";
  }
}
