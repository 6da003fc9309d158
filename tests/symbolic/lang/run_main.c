/* run_main.c: a stand-alone `nsr run` for the language tests, so that
 * bridge/cmd_run.c is exercised before the nsr command links it. */
int cmd_run(int argc, char **argv);

int main(int argc, char **argv) { return cmd_run(argc, argv); }
