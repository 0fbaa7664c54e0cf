// Test-only: validate PDF files against a PDF/A flavour with veraPDF's library (Maven Central, see pom.xml).
// Usage: java -cp <classpath> Validate.java <flavour, e.g. 3b> <file.pdf>...
// Prints one line per file, "<file>\tcompliant" or "<file>\tnot compliant", then one line per failed rule:
// "\t<specification> <clause>-<test number>\t<description>\t<count>". Exit 0 when every file is compliant, 1 when
// one is not, 2 on a usage or parsing error.
import java.io.File;
import java.util.Map;
import java.util.TreeMap;

import org.verapdf.gf.foundry.VeraGreenfieldFoundryProvider;
import org.verapdf.pdfa.Foundries;
import org.verapdf.pdfa.PDFAParser;
import org.verapdf.pdfa.PDFAValidator;
import org.verapdf.pdfa.flavours.PDFAFlavour;
import org.verapdf.pdfa.results.TestAssertion;
import org.verapdf.pdfa.results.ValidationResult;

public class Validate {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: Validate <flavour> <file.pdf>...");
            System.exit(2);
        }
        VeraGreenfieldFoundryProvider.initialise();
        PDFAFlavour flavour = PDFAFlavour.fromString(args[0]);
        boolean all = true;
        for (int i = 1; i < args.length; i++) {
            try (PDFAParser parser = Foundries.defaultInstance().createParser(new File(args[i]), flavour);
                 PDFAValidator validator = Foundries.defaultInstance().createValidator(flavour, false)) {
                ValidationResult result = validator.validate(parser);
                System.out.println(args[i] + "\t" + (result.isCompliant() ? "compliant" : "not compliant"));
                all &= result.isCompliant();
                Map<String, Integer> failed = new TreeMap<>();
                Map<String, String> descriptions = new TreeMap<>();
                for (TestAssertion assertion : result.getTestAssertions()) {
                    if (assertion.getStatus() == TestAssertion.Status.FAILED) {
                        String rule = assertion.getRuleId().getSpecification() + " " + assertion.getRuleId().getClause()
                            + "-" + assertion.getRuleId().getTestNumber();
                        failed.merge(rule, 1, Integer::sum);
                        descriptions.putIfAbsent(rule, assertion.getMessage().replace('\n', ' '));
                    }
                }
                for (Map.Entry<String, Integer> entry : failed.entrySet()) {
                    System.out.println("\t" + entry.getKey() + "\t" + descriptions.get(entry.getKey()) + "\t"
                        + entry.getValue());
                }
            } catch (Exception e) {
                System.out.println(args[i] + "\terror\t" + e);
                System.exit(2);
            }
        }
        System.exit(all ? 0 : 1);
    }
}
