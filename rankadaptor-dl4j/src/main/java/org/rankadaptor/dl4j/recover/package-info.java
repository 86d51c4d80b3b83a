/**
 * Recovery (LoRA fine-tuning) of a pruned model.
 *
 * <p>Data: Alpaca instruction data with the prompt masked from the loss
 * ({@link org.rankadaptor.dl4j.recover.AlpacaData}), plain-text windows
 * ({@link org.rankadaptor.dl4j.recover.TextWindows}), and seeded splits and padded micro-batches as plain
 * arrays ({@link org.rankadaptor.dl4j.recover.TrainingData}).
 *
 * <p>Training: {@link org.rankadaptor.dl4j.recover.LoraRecoveryRunner} is the search's
 * {@link org.rankadaptor.RecoveryRunner}: it trains adapters with a rank configuration's per-layer ranks
 * using {@link org.rankadaptor.dl4j.recover.AdamW} and a
 * {@link org.rankadaptor.dl4j.recover.LearningRateSchedule}, as {@link
 * org.rankadaptor.dl4j.recover.RecoverySettings} say ({@code paper()} reproduces LLM-Pruner's recovery),
 * and returns a {@link org.rankadaptor.dl4j.recover.RecoveredModel} with its training log and provenance.
 * {@link org.rankadaptor.dl4j.recover.RecoveryBaselines} names the configurations searched ranks are
 * compared with.
 *
 * <p>Provenance: each runner reports what its recoveries depend on as a
 * {@link org.rankadaptor.dl4j.recover.RecoveryProvenance} (its settings field by field, fingerprints of the
 * model and of the data); the runner's {@link org.rankadaptor.RecoveryRunner#fingerprint()}, by which
 * observation stores match earlier measurements, is rendered from that record in a frozen format.
 *
 * <p>AdaLoRA: {@link org.rankadaptor.dl4j.recover.AdaLoraRecoveryRunner} recovers with AdaLoRA as PEFT
 * trains it ({@link org.rankadaptor.dl4j.recover.AdaLoraSettings}), learning its ranks during one fine-tune,
 * and returns an {@link org.rankadaptor.dl4j.recover.AdaLoraRecovery}. Both runners share one training loop
 * (optimiser, accumulation, clipping, validation, the kept state); what differs is what they train.
 */
package org.rankadaptor.dl4j.recover;
