// y ~ X beta + (Z | g) with K correlated random effects per group and
// lmer's prior weights: y[n] ~ normal(mu[n], sigma / sqrt(w[n])).
// (brms's y | weights(w) multiplies the log-likelihood by w instead,
// which differs in the log sigma term.)
data {
  int<lower=1> N; int<lower=1> P; int<lower=1> K; int<lower=1> J;
  matrix[N, P] X; matrix[N, K] Z; int<lower=1, upper=J> g[N]; vector[N] y;
  vector<lower=0>[N] w;
  real beta_sd; real sigma_scale; real tau_scale; real nu; real lkj_eta;
}
parameters {
  vector[P] beta; real<lower=0> sigma; vector<lower=0>[K] tau;
  cholesky_factor_corr[K] L; matrix[K, J] zeta;
}
transformed parameters {
  matrix[J, K] b = (diag_pre_multiply(tau, L) * zeta)';
}
model {
  vector[N] mu = X * beta;
  for (n in 1:N) mu[n] += Z[n] * b[g[n]]';
  beta ~ normal(0, beta_sd);
  sigma ~ student_t(nu, 0, sigma_scale);
  tau ~ student_t(nu, 0, tau_scale);
  L ~ lkj_corr_cholesky(lkj_eta);
  to_vector(zeta) ~ std_normal();
  y ~ normal(mu, sigma ./ sqrt(w));
}
generated quantities {
  corr_matrix[K] Omega = multiply_lower_tri_self_transpose(L);
}
