/**
 * The {@code rankadaptor} command line ({@link org.rankadaptor.examples.Main}) and what its commands share.
 *
 * <p>Commands, one file each: {@code demo}, {@code run} (with {@code RunPipeline}, the serialisable value a
 * Spark executor rebuilds the run from, and {@code AdaLoraRun}), {@code pretrain}, {@code experiment},
 * {@code table}, {@code spread}, {@code replay} and {@code parallel}. Options two or more commands take are
 * picocli mixins ({@code SharedOptions}, {@code TestBedOptions}, {@code DeepModelOptions}) whose defaults are
 * stated once, in {@code CommandDefaults}. The chain calibrate, prune, recovery runner, meta-learned MLP and
 * search is built by one factory, {@code SearchPipeline}; the stories test bed the experiment, table and
 * parallel commands measure on is {@code StoriesTestBed}.
 *
 * <p>The experiment's report is built as statistics, then rendering: {@code ExperimentStats} computes the
 * means, paired differences and findings as data; {@code MarkdownReport}, {@code ExperimentFigures} and
 * {@code ExperimentJson} render them; {@code MachineInfo} describes the machine; {@code ExperimentReport}
 * writes the folder.
 *
 * <p>Not here: the SVG charts ({@code examples.report}), the demo's model and text ({@code examples.demo}),
 * the project's pretrained models ({@code examples.pretrain}), and everything numeric, which lives in
 * {@code rankadaptor-dl4j}. Nothing here is public API but {@code Main}.
 */
package org.rankadaptor.examples;
