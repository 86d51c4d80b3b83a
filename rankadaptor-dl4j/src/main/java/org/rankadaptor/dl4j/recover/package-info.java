/**
 * Recovery (LoRA fine-tuning) data: Alpaca instruction data with the prompt masked from the loss
 * ({@link org.rankadaptor.dl4j.recover.AlpacaData}), plain-text windows
 * ({@link org.rankadaptor.dl4j.recover.TextWindows}), and seeded splits and padded micro-batches as plain
 * arrays ({@link org.rankadaptor.dl4j.recover.TrainingData}).
 */
package org.rankadaptor.dl4j.recover;
