import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import java.nio.file.Path;

/**
 * `helm lint --strict` then `helm template` of a chart with values files, through Helm's own Go
 * library: `java -cp <classpath> HelmTemplate.java <chart> <release> <kube-version> [values.yaml …]`. Prints the
 * rendered manifests; a lint finding or a template error goes to stderr with exit code 1.
 */
public class HelmTemplate {
  public static void main(String[] args) {
    Path chart = Path.of(args[0]);
    try {
      LintResult lint = new Helm(chart).lint().strict().call();
      if (lint.isFailed()) {
        System.err.println(String.join("\n", lint.getMessages()));
        System.exit(1);
      }
      TemplateCommand template = new Helm(chart).template().withName(args[1]).withKubeVersion(args[2]);
      for (int i = 3; i < args.length; i++) template = template.withValuesFile(Path.of(args[i]));
      System.out.print(template.call());
    } catch (RuntimeException error) {
      System.err.println(error.getMessage());
      System.exit(1);
    }
  }
}
