package org.rankadaptor.examples;

import java.time.Duration;
import java.util.List;
import org.rankadaptor.RankSpace;
import org.rankadaptor.dl4j.PrunedSearchResult;
import org.rankadaptor.dl4j.llama.LlamaConfig;

/**
 * One setting of an experiment: its pruned model, space and everything its search measured.
 *
 * @param setting the pruning setting
 * @param config the pruned model's shapes
 * @param keptLayers the unpruned model's index of each remaining layer
 * @param space the rank space, within uniform rank 8's budget
 * @param pruningReportJson the pruning report
 * @param parametersBefore parameters of the unpruned model
 * @param parametersAfter parameters of the pruned model
 * @param result what the search and the baselines measured
 * @param compute the time the setting's stored measurements took when they were made (a resumed run reuses them)
 */
record SettingRun(
    PruningSetting setting,
    LlamaConfig config,
    List<Integer> keptLayers,
    RankSpace space,
    String pruningReportJson,
    long parametersBefore,
    long parametersAfter,
    PrunedSearchResult result,
    Duration compute) {}
