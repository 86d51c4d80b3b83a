package org.rankadaptor.dl4j.llama;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * cos, sin and -sin of every position's RoPE angles for one head width, each (maxSeqLen, headDim/2),
 * computed once in float64 and cast to the model's data type. The backward pass rotates by -sin.
 */
record RopeTables(INDArray cos, INDArray sin, INDArray negSin) {

  static RopeTables of(LlamaConfig config, int headDim, DataType dtype) {
    int half = headDim / 2;
    double[] cos = new double[config.maxSeqLen() * half];
    double[] sin = new double[cos.length];
    for (int pos = 0; pos < config.maxSeqLen(); pos++) {
      for (int i = 0; i < half; i++) {
        double angle = pos * Math.pow(config.ropeTheta(), -2.0 * i / headDim);
        cos[pos * half + i] = Math.cos(angle);
        sin[pos * half + i] = Math.sin(angle);
      }
    }
    long[] shape = {config.maxSeqLen(), half};
    INDArray sinArray = Nd4j.create(sin, shape, DataType.DOUBLE).castTo(dtype);
    return new RopeTables(
        Nd4j.create(cos, shape, DataType.DOUBLE).castTo(dtype), sinArray, sinArray.neg());
  }
}
