/**
 * The paper's performance model on DL4J: an ensemble of small multilayer perceptrons that predicts a rank
 * configuration's recovered score, meta-learned from source tasks with Reptile and updated online.
 *
 * <p>{@link org.rankadaptor.dl4j.predictor.MlpPerformanceModel} is the core search's
 * {@link org.rankadaptor.PerformanceModel}; {@link org.rankadaptor.dl4j.predictor.MlpConfig} holds its
 * settings (network shape, ensemble, seed, training and Reptile schedules) and
 * {@link org.rankadaptor.dl4j.predictor.PredictorProvenance} reports them with the seeds of the networks,
 * for a run's provenance. {@link org.rankadaptor.dl4j.predictor.MlpScorer} scores millions of candidates
 * from a snapshot of the trained weights.
 *
 * <p>Package-private: {@code Member} (one network of the ensemble, a DL4J {@code MultiLayerNetwork} as
 * the model of record), {@code MlpTrainer} (DL4J's Adam step in plain arrays, far faster than
 * {@code fit}), {@code Bootstrap} (the ensemble's resampling), {@code TrainingState} (what training changes, with
 * the target scale), {@code InputEncoding} (ranks to standardised log-ranks), {@code ModelFile} (the
 * saved form) and the
 * scoring kernels behind {@code Kernel}: {@code ScalarKernel} here, and {@code VectorKernel}, on the Vector
 * API, in the incubator source folder, chosen in one place by {@code MlpScorer}.
 *
 * <p>Nothing here recovers, prunes or evaluates a language model: the performance model sees ranks and
 * scores only.
 */
package org.rankadaptor.dl4j.predictor;
