package org.rankadaptor.dl4j.llama;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Key/value rows of the sequences decoded side by side, per layer (batch, maxSeqLen, kvDim): the
 * sequences advance in lockstep, so one offset serves them all. {@link LlamaGenerator} owns it; {@link
 * LlamaModel}'s attention writes the step's keys and values into it and reads the cached ones back.
 */
record KvCache(INDArray[] keys, INDArray[] values) {}
