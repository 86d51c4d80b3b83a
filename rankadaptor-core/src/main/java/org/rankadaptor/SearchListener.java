package org.rankadaptor;

/**
 * Receives a search's progress. Called on the searching thread; keep it quick.
 *
 * @since 0.1.0
 */
public interface SearchListener {

  /** A phase begins. */
  default void onPhase(SearchPhase phase) {}

  /** A real evaluation (or a reused stored one) has been recorded. */
  default void onEvaluation(IterationRecord record) {}

  /** The search has finished. */
  default void onFinish(SearchResult result) {}
}
