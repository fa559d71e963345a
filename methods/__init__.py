"""mbrl-spectrum methods: SAC, MBPO, Dyna, MPC and BPTT over one shared core."""
