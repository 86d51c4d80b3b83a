/**
 * A built-in objective for running and testing the search without a model: {@link
 * org.rankadaptor.demo.DemoObjective} is a seeded, noisy stand-in for "recover with these ranks and
 * measure", with per-layer preferences and couplings shared across a family of tasks.
 *
 * <p>It is what {@code rankadaptor demo --synthetic} and the core's tests search; nothing here
 * is needed for a real search, and no real model, tensor library or file lives here. The predictors
 * that need no tensor library live in {@link org.rankadaptor.predictor}.
 */
package org.rankadaptor.demo;
