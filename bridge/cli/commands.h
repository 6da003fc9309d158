/* commands.h: the subcommands of `nsr`. Each takes the arguments after its
 * name (argv[0] is the subcommand's name) and returns the exit status. */
#ifndef NSR_COMMANDS_H
#define NSR_COMMANDS_H

int cmd_numbers(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_sql(int argc, char **argv);
int cmd_store(int argc, char **argv);
int cmd_mcp(int argc, char **argv);
int cmd_tools(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_repl(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_propose(int argc, char **argv);
int cmd_experiment(int argc, char **argv);
int cmd_nn(int argc, char **argv);
/* `nsr version` (nsr-full only: it reports the libraries nsr-full links). */
int cmd_version(int argc, char **argv);
/* `nsr numbers eval`, `fit` and `mh` (dispatched by cmd_numbers). */
int cmd_numbers_eval(int argc, char **argv);
int cmd_numbers_fit(int argc, char **argv);
int cmd_numbers_mh(int argc, char **argv);

#endif
