package org.rankadaptor;

/**
 * The entry point: searches per-layer LoRA ranks for recovering a pruned model.
 *
 * <pre>{@code
 * SearchSpec<MyModel> spec = SearchSpec.builder(performanceModel, recoveryRunner, evaluator)
 *     .store(ObservationStore.open(Path.of("runs/piqa.jsonl")))   // persisted; resumes after a crash
 *     .seed(42)
 *     .maxEvaluations(20)
 *     .build();
 * SearchResult result = RankAdaptor.search(spec);
 * RankConfig ranks = result.best();
 * }</pre>
 *
 * <p>The search follows the paper's phases, made to stand up to seed noise. Initialization: the
 * performance model is meta-learned from the store's observations of other tasks, then the anchor
 * (uniform rank 8 by default) and optional seeded warm-up configurations are recovered and evaluated.
 * Iteration: many configurations are sampled, scored by the model, and the best one not yet evaluated
 * (by the acquisition rule) is recovered and evaluated for real; the observation is stored and fed back
 * to the model; the anchor and the incumbent are replicated with a second recovery seed to measure the
 * noise. Exploration stops by the {@link StoppingRule} (by default when no candidate is expected to beat
 * the incumbent by more than that noise) or when only the confirmation's fine-tunes are left.
 * Confirmation: the anchor and the finalists are evaluated with further paired seeds; the best paired
 * mean wins, with a verdict against the anchor ({@link SearchResult#confirmation()}).
 * {@link SearchSpec.Builder#paperProtocol()} runs the paper's loop as published.
 *
 * @since 0.1.0
 */
public final class RankAdaptor {
  private RankAdaptor() {}

  /**
   * Runs a search. Every evaluation is appended to the spec's store before the search goes on; given a
   * store that already holds evaluations of the same task, recovery seed and fingerprints, the search
   * replays its choices and takes those from the store instead of recovering them again, so a killed
   * search resumes where it stopped and ends with the same result as an uninterrupted one.
   *
   * <p>A spec is searched once: the search changes its performance model (reseeding, meta-learning,
   * updates). To search again, build a new spec with a fresh model; with the same store, it reuses the
   * recoveries already measured.
   *
   * @throws RankAdaptorException if no evaluation succeeded
   * @throws IllegalStateException if the spec has been searched before
   */
  public static <M> SearchResult search(SearchSpec<M> spec) {
    return new Search<>(spec, false).run();
  }

  /**
   * The baseline: evaluates distinct configurations drawn uniformly at random (seeded), up to the spec's
   * evaluation or time budget, through the same store. Meta-learning, warm-up, the model and the
   * convergence rule are not used, so a spec may be given to it any number of times, before or after
   * {@link #search}.
   */
  public static <M> SearchResult randomSearch(SearchSpec<M> spec) {
    return new Search<>(spec, true).run();
  }
}
