/**
 * Figures as self-contained SVG text, for reports that render on GitHub without a plotting library:
 * {@link org.rankadaptor.examples.report.LineChart} (series, error bars, reference lines) and
 * {@link org.rankadaptor.examples.report.HeatMap} (a grid of values with missing cells marked), with their
 * axis ticks and SVG escaping. They draw what they are given; the numbers come from the reports that use them
 * (the experiment's statistics live in {@code org.rankadaptor.examples.ExperimentStats}), and no Markdown is
 * written here.
 */
package org.rankadaptor.examples.report;
