echo dckr_pat_OmusltGLnzkVzsuv1CV9CLIbQ7o | docker login -u acme --password-stdin
