/**
 * Performance models without a tensor library: {@link org.rankadaptor.predictor.BayesianRidgeModel}, a
 * Bayesian ridge regression on features of the rank vector with a predictive standard deviation, the
 * default of a pipeline that depends on {@code rankadaptor-core} alone. The paper's MLP, meta-learned with
 * Reptile, is {@code org.rankadaptor.dl4j.predictor.MlpPerformanceModel} in {@code rankadaptor-dl4j}.
 */
package org.rankadaptor.predictor;
