package org.rankadaptor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the observations a search meta-learns from: the successful ones of the source tasks named, or
 * of every task but the target when none is named, restricted to the search space.
 */
final class SourceTasks {
  private static final Logger log = LoggerFactory.getLogger(SourceTasks.class);

  private SourceTasks() {}

  /**
   * The source tasks' observations that fit the space, by task in the store's order; empty (with a
   * warning) when there are none.
   *
   * @param named the source tasks asked for; empty for every task but the target
   * @throws IllegalArgumentException when a named task has no successful observation in the store: a
   *     misspelt name is an error, not a silent search without meta-learning
   */
  static Map<String, List<Observation>> select(ObservationStore store, Set<String> named, String targetTask,
      RankSpace space) {
    Map<String, List<Observation>> byTask = store.succeededByTask();
    Set<String> known = new TreeSet<>();
    store.all().forEach(o -> known.add(o.taskId()));
    for (String source : named) {
      if (!byTask.containsKey(source)) {
        throw new IllegalArgumentException("source task '" + source + "' has no successful observation in the "
            + "store; tasks in the store: " + known);
      }
    }
    Map<String, List<Observation>> sources = new LinkedHashMap<>();
    for (Map.Entry<String, List<Observation>> e : byTask.entrySet()) {
      String task = e.getKey();
      boolean wanted = named.isEmpty() ? !task.equals(targetTask) : named.contains(task);
      if (wanted) {
        List<Observation> fitting = e.getValue().stream()
            .filter(o -> o.config().length() == space.numLayers() && space.contains(o.config()))
            .toList();
        if (!fitting.isEmpty()) {
          sources.put(task, fitting);
        } else {
          log.warn("source task {} has no observation in the search space {}; it is left out", task, space.describe());
        }
      }
    }
    if (sources.isEmpty()) {
      log.warn("no source task for meta-learning (the store holds {}): the performance model starts without it",
          known);
    }
    return sources;
  }
}
