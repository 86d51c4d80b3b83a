package org.rankadaptor.predictor;

/** Cholesky factorisation and triangular solves for the small symmetric positive-definite systems here. */
final class Cholesky {
  private Cholesky() {}

  /** The lower factor L with A = L L^T. */
  static double[][] factor(double[][] a) {
    int n = a.length;
    double[][] l = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j <= i; j++) {
        double s = a[i][j];
        for (int k = 0; k < j; k++) {
          s -= l[i][k] * l[j][k];
        }
        if (i == j) {
          if (!(s > 0)) {
            throw new ArithmeticException("matrix is not positive definite at row " + i);
          }
          l[i][i] = Math.sqrt(s);
        } else {
          l[i][j] = s / l[j][j];
        }
      }
    }
    return l;
  }

  /** Solves L x = b into {@code out}. */
  static void forward(double[][] l, double[] b, double[] out) {
    for (int i = 0; i < b.length; i++) {
      double s = b[i];
      double[] row = l[i];
      for (int k = 0; k < i; k++) {
        s -= row[k] * out[k];
      }
      out[i] = s / row[i];
    }
  }

  /** Solves (L L^T) x = b. */
  static double[] solve(double[][] l, double[] b) {
    int n = b.length;
    double[] y = new double[n];
    forward(l, b, y);
    double[] x = new double[n];
    for (int i = n - 1; i >= 0; i--) {
      double s = y[i];
      for (int k = i + 1; k < n; k++) {
        s -= l[k][i] * x[k];
      }
      x[i] = s / l[i][i];
    }
    return x;
  }
}
