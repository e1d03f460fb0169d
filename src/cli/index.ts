export { runCli, buildProgram } from "./main.js";
