#include "analysis/tagger.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "analysis/learned_cache.h"
#include "analysis/normalize.h"
#include "analysis/tagger_suite.h"


namespace chatpipe {
namespace {

class TaggerTest : public TaggerSuite {
 protected:
  static Tags Tag(std::string_view text) { return tagger_->Analyze(text); }
  static double Score(std::string_view text) { return Tag(text).sentiment_score; }
};

// --- Profanity -------------------------------------------------------------------------------

TEST_F(TaggerTest, FlagsPlainProfanityInEachLanguage) {
  EXPECT_EQ(Tag("what the fuck").terms, std::vector<std::string>{"fuck"});
  EXPECT_EQ(Tag("esto es una mierda").terms, std::vector<std::string>{"mierda"});
  EXPECT_EQ(Tag("que merda").terms, std::vector<std::string>{"merda"});
  EXPECT_EQ(Tag("caralho").terms, std::vector<std::string>{"caralho"});
}

TEST_F(TaggerTest, SurvivesEvasions) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"FUCK this", "fuck"},         {"MiErDa", "mierda"},          {"cabrón", "cabron"},
      {"CABRÓN", "cabron"},          {"coño", "coño"},              {"mieeerda", "mierda"},
      {"fuuuck", "fuck"},            {"porraaa", "porra"},          {"m1erda", "mierda"},
      {"sh1t", "shit"},              {"c4ralho", "caralho"},        {"$hit", "shit"},
      {"put@", "puta"},              {"a$$hole", "asshole"},        {"p.u.t.a", "puta"},
      {"f u c k", "fuck"},           {"f-u-c-k", "fuck"},           {"f_u_c_k", "fuck"},
      {"m e r d a", "merda"},        {"mier.da", "mierda"},         {"sh!t", "shit"},
      {"f*ck", "fuck"},              {"f**k", "fuck"},              {"motherfucker", "fuck"},
      {"bullshit", "shit"},          {"fuuu.ck", "fuck"},           {"sh'it", "shit"},
      {"fück", "fuck"},              {"m\xC3\xAD" "erda", "mierda"},  // í precomposed
      {"mi\xCC\x81" "erda", "mierda"},                                   // i + combining acute
  };
  for (const auto& [text, term] : cases) {
    const Tags tags = Tag(text);
    EXPECT_TRUE(tags.profane) << text;
    EXPECT_EQ(tags.terms, std::vector<std::string>{term}) << text;
  }
}

TEST_F(TaggerTest, SparesInnocentLookAlikes) {
  for (const char* text :
       {"Scunthorpe United", "la computadora nueva", "el computador", "la disputa", "a reputação da marca",
        "a cocktail bar", "shiitake mushrooms", "shitake", "Sussex and Essex", "the assessment", "my class",
        "can you pass me that", "as reuniões são às terças", "as I said", "mi abuela vive en Putaendo",
        "el cono de tránsito", "feliz año nuevo", "hicimos una porra para el partido", "c u later",
        "reading Dickens", "the cockpit", "my therapist", "a bass guitar", "hello shell", "class assassin",
        "Hancock and peacock", "2024 $100 @rodo", "A** in maths", "**bold**", "rated 5***"}) {
    const Tags tags = Tag(text);
    EXPECT_FALSE(tags.profane) << text << " -> " << (tags.terms.empty() ? "" : tags.terms[0]);
    EXPECT_EQ(tags.masked, text);
  }
}

// A word of one letter and three or more stars is the first bad word of the lists with that letter and
// length, in the message's language where one has it; the tagger's masked output reads so too.
TEST_F(TaggerTest, OneLetterAndStarsIsABadWord) {
  EXPECT_EQ(Tag("f*** off").terms, std::vector<std::string>{"fuck"});
  EXPECT_EQ(Tag("what the f*** is this patch").level, Severity::kStrong);
  EXPECT_EQ(Tag("m****, esqueci o guarda-chuva").terms, std::vector<std::string>{"merda"});
  EXPECT_EQ(Tag("hijo de p*** me rayaste el auto").terms, std::vector<std::string>{"hijo de puta"});
  EXPECT_EQ(Tag("vete a la m*****").terms, std::vector<std::string>{"mierda"});
  EXPECT_EQ(Tag("f***ing brilliant").terms, std::vector<std::string>{"fuck"});  // a word in pieces
  EXPECT_FALSE(Tag("f** off").profane);                                         // two stars are no word
}

// No bad word is longer than kMaxBadLength letters, so a letter and that many stars is none: the
// sizes of the lists' words end there (the fuzzer found the length one past them read out of bounds).
TEST_F(TaggerTest, ALetterAndTooManyStarsIsNoWord) {
  for (size_t stars : {analysis::kMaxBadLength - 1, analysis::kMaxBadLength, analysis::kMaxBadLength + 1}) {
    const std::string text = "i" + std::string(stars, '*') + " ok";
    EXPECT_FALSE(Tag(text).profane) << stars << " stars";
  }
}

TEST_F(TaggerTest, AllowListDependsOnLanguage) {
  EXPECT_FALSE(Tag("hicimos una porra para el partido del domingo").profane);  // es: a betting pool
  EXPECT_TRUE(Tag("porra, esqueci a carteira em casa").profane);               // pt: a swear word
}

// Levels (data/eval/labelling.md): each term has its own, the message takes the highest.
TEST_F(TaggerTest, EachTermHasItsLevelAndTheMessageTheHighest) {
  const Tags mild = Tag("damn, the milk is off");
  EXPECT_EQ(mild.level, Severity::kMild);
  EXPECT_EQ(mild.term_levels, std::vector<Severity>{Severity::kMild});
  const Tags both = Tag("damn this fucking thing");
  EXPECT_EQ(both.terms, (std::vector<std::string>{"damn", "fuck"}));
  EXPECT_EQ(both.term_levels, (std::vector<Severity>{Severity::kMild, Severity::kStrong}));
  EXPECT_EQ(both.level, Severity::kStrong);
  EXPECT_EQ(Tag("weón, trae hielo").level, Severity::kMild);
  EXPECT_EQ(Tag("conchetumare, se cayó el sistema").level, Severity::kStrong);
  EXPECT_EQ(Tag("caralho, que golaço").level, Severity::kMild);
  EXPECT_EQ(Tag("vtnc").level, Severity::kStrong);
  EXPECT_EQ(Tag("hoy es lunes").level, Severity::kNone);
}

TEST_F(TaggerTest, MaskOnlyTheLevelsAsked) {
  TagOptions strong_only;
  strong_only.mask_mild = false;
  const Tags both = tagger_->Analyze("damn this fucking thing", strong_only);
  EXPECT_EQ(both.masked, "damn this f****** thing");
  EXPECT_TRUE(both.any_masked);
  const Tags mild = tagger_->Analyze("damn, the milk is off", strong_only);
  EXPECT_TRUE(mild.profane);  // tagged, not masked
  EXPECT_FALSE(mild.any_masked);
  EXPECT_EQ(mild.masked, "damn, the milk is off");
  TagOptions none;
  none.mask_mild = none.mask_strong = false;
  EXPECT_FALSE(tagger_->Analyze("damn this fucking thing", none).any_masked);
  TagOptions mild_only;
  mild_only.mask_strong = false;
  EXPECT_EQ(tagger_->Analyze("damn this fucking thing", mild_only).masked, "d*** this fucking thing");
}

// A phrase is one term, every word of it masked; a threat is strong though its words are not bad. A
// named phrase is its name: every threat is the term "threat".
TEST_F(TaggerTest, PhrasesAreOneTerm) {
  const Tags threat = Tag("te voy a matar");
  EXPECT_EQ(threat.terms, std::vector<std::string>{"threat"});
  EXPECT_EQ(threat.level, Severity::kStrong);
  EXPECT_EQ(threat.masked, "t* v** a m****");
  EXPECT_EQ(Tag("eres un hijo de puta").terms, std::vector<std::string>{"hijo de puta"});
  EXPECT_EQ(Tag("h1j0 d3 put4").terms, std::vector<std::string>{"hijo de puta"});  // leetspeak
  EXPECT_EQ(Tag("puta madre").level, Severity::kMild);  // puta alone is mild
  EXPECT_EQ(Tag("just kill yourself").level, Severity::kStrong);
  EXPECT_FALSE(Tag("kill, yourself").profane);  // not across a clause
  EXPECT_FALSE(Tag("son las tres y pico").profane);
  EXPECT_EQ(Tag("está pal pico el internet").level, Severity::kMild);
  EXPECT_FALSE(Tag("o meu puto entra na escola").profane);  // Portugal: a kid
  EXPECT_EQ(Tag("tô puto com a operadora").level, Severity::kMild);  // Brazil: angry
  EXPECT_FALSE(Tag("he's got a bloody nose").profane);     // an innocent phrase
  EXPECT_TRUE(Tag("bloody hell").profane);
}

// Names stay names: the author's own (TagOptions::names), and Capitalised known names without a cue.
TEST_F(TaggerTest, NamesStayNames) {
  EXPECT_FALSE(Tag("Dick said he'll be late").profane);  // and "he'll" is no "hell"
  EXPECT_FALSE(Tag("the Moby Dick reading group").profane);
  EXPECT_TRUE(Tag("you Dick").profane);  // a cue before the name
  EXPECT_TRUE(Tag("such a Dick").profane);
  EXPECT_TRUE(Tag("what a dick").profane);  // not Capitalised
  EXPECT_TRUE(Tag("DICK").profane);         // shouting
  EXPECT_FALSE(Tag("me encantó Fucking, un pueblo de Austria").profane);
  EXPECT_TRUE(Tag("Fucking hell").profane);  // a `mid` name opens no sentence
  TagOptions dick;
  dick.names = {"Dick"};
  EXPECT_FALSE(tagger_->Analyze("you dick", dick).profane);  // the author's name, whatever the context
  EXPECT_FALSE(tagger_->Analyze("DICK!", dick).profane);
  EXPECT_EQ(tagger_->Analyze("Dick, fuck off", dick).terms, std::vector<std::string>{"fuck"});
  TagOptions accented;
  accented.names = {"Culiáo"};  // folded like the text
  EXPECT_FALSE(tagger_->Analyze("culiao", accented).profane);
  EXPECT_TRUE(tagger_->Analyze("culiao").profane);
}

TEST_F(TaggerTest, MaskKeepsFirstLetterAndEverythingElse) {
  EXPECT_EQ(Tag("vete a la mierda").masked, "vete a la m*****");
  EXPECT_EQ(Tag("qué mieeerda!").masked, "qué m*******!");
  EXPECT_EQ(Tag("p.u.t.a madre").masked, "p.*.*.* madre");
  EXPECT_EQ(Tag("f u c k this").masked, "f * * * this");
  EXPECT_EQ(Tag("$hit, again").masked, "$***, again");
  EXPECT_EQ(Tag("f*ck yeah").masked, "f*** yeah");
  // One '*' per character: "cabrón" is 7 bytes but 6 characters.
  EXPECT_EQ(Tag("ese cabrón 😡").masked, "ese c***** 😡");
  const std::string text = "ok, shit and SHIT; fine";
  const Tags tags = Tag(text);
  EXPECT_EQ(tags.masked, "ok, s*** and S***; fine");
  EXPECT_EQ(tags.masked.size(), text.size());
  EXPECT_EQ(tags.terms, std::vector<std::string>{"shit"});  // once, though found twice
}

TEST_F(TaggerTest, CleanTextIsUntouchedByteForByte) {
  const std::string text = "  hola\t¿qué tal?  \xF0\x9F\x98\x82\r\n";
  EXPECT_EQ(Tag(text).masked, text);
}

// --- Sentiment -------------------------------------------------------------------------------

TEST_F(TaggerTest, PolarityOfPlainWords) {
  EXPECT_GT(Score("this is good"), 0.05);
  EXPECT_LT(Score("this is bad"), -0.05);
  EXPECT_GT(Score("la comida es buenísima"), 0.05);
  EXPECT_LT(Score("o atendimento foi péssimo"), -0.05);
  EXPECT_EQ(Tag("the meeting is at 5").sentiment_label, "neutral");
  EXPECT_EQ(Tag("la reunión es a las 5").sentiment_label, "neutral");
}

TEST_F(TaggerTest, NegationFlips) {
  EXPECT_LT(Score("not good"), -0.05);
  EXPECT_GT(Score("no está mal"), 0.05);
  EXPECT_LT(Score("não gostei"), -0.05);
  EXPECT_LT(Score("no me gustó"), -0.05);
  EXPECT_GT(Score("sin problemas"), 0.05);
  EXPECT_LT(Score("this isn't good"), -0.05);
  // A clause break ends the negation's reach: the answer "no" does not turn "great" around.
  EXPECT_GT(Score("no, this is great"), 0.05);
}

TEST_F(TaggerTest, IntensifiersRaiseAndDampenersLowerMagnitude) {
  EXPECT_GT(Score("very good"), Score("good"));
  EXPECT_GT(Score("muy bueno"), Score("bueno"));
  EXPECT_GT(Score("muito bom"), Score("bom"));
  EXPECT_LT(Score("very bad"), Score("bad"));
  EXPECT_LT(Score("kinda good"), Score("good"));
  EXPECT_LT(Score("un poco caro"), 0);
  EXPECT_GT(Score("un poco caro"), Score("caro"));
}

TEST_F(TaggerTest, ContrastWeighsTheLaterClause) {
  EXPECT_LT(Score("the food was great but the service was terrible"), -0.05);
  EXPECT_GT(Score("the service was terrible but the food was great"), 0.05);
  EXPECT_LT(Score("la comida estaba buena pero el servicio fue horrible"), -0.05);
  EXPECT_LT(Score("o filme é bonito mas o final é horrível"), -0.05);
  // "mas" is "but" in Portuguese only; in Spanish it is "more".
  EXPECT_GT(Score("es más lindo"), 0.05);
}

TEST_F(TaggerTest, EmojiAndEmoticonsCount) {
  EXPECT_GT(Score("😂"), 0.05);
  EXPECT_GT(Score("❤️❤️"), Score("❤️"));
  EXPECT_LT(Score("😡"), -0.05);
  EXPECT_GT(Score("nos vemos :)"), 0.05);
  EXPECT_GT(Score("see you :D"), 0.05);
  EXPECT_LT(Score("llueve :("), -0.05);
  EXPECT_LT(Score("raining again :(((("), -0.05);
  EXPECT_GT(Score("<3"), 0.05);
  EXPECT_GT(Score("xD"), 0.05);
  EXPECT_GT(Score("jajajaja"), 0.05);
  EXPECT_GT(Score("kkkkkk"), 0.05);
  // Not faces: a URL's "://" and a time's ":3".
  EXPECT_EQ(Tag("see https://example.com/x at 12:30").sentiment_label, "neutral");
}

// Threats in words no list holds: the learned model's profanity head flags them (written for this test,
// in no data set), and the lists alone do not.
TEST_F(TaggerTest, TheLearnedModelFlagsWhatTheListsMiss) {
  TagOptions lists_only;
  lists_only.learned_profanity = false;
  for (const char* text :
       {"te voy a esperar a la salida con mis primos y vas a ver", "se aparecer aqui de novo vai sair carregado"}) {
    const Tags tags = Tag(text);
    EXPECT_TRUE(tags.profane) << text;
    EXPECT_EQ(tags.terms, std::vector<std::string>{kLearnedTerm}) << text;
    EXPECT_FALSE(tagger_->Analyze(text, lists_only).profane) << text;
  }
}

// A threat or an incitement to self-harm is negative whatever else the message says (labelling.md),
// with the learned label and without it.
TEST_F(TaggerTest, AThreatIsNegative) {
  TagOptions lexicon_only;
  lexicon_only.learned_sentiment = false;
  for (const char* text :
       {"te voy a matar, sos lo mejor 😍", "ill smash your teeth in, love you", "mátate, sos lo mejor", "kys lol"}) {
    EXPECT_EQ(Tag(text).sentiment_label, "negative") << text;
    EXPECT_EQ(tagger_->Analyze(text, lexicon_only).sentiment_label, "negative") << text;
  }
  EXPECT_EQ(Tag("jajaja me encanta 😂").sentiment_label, "positive");  // the same words without one
}

// A threat with a laugh is a joke between friends (senses.txt: every read set agrees); an incitement to
// self-harm with one is not.
TEST_F(TaggerTest, ALaughMakesAThreatAJoke) {
  TagOptions lists_only;
  lists_only.learned_profanity = false;
  for (const char* text : {"te voy a matar jajaja", "se vc comer meu pudim de novo eu te mato kkkkk",
                           "lol im gonna kill you for spoiling the ending"}) {
    EXPECT_FALSE(tagger_->Analyze(text, lists_only).profane) << text;
  }
  // Nor does the spared threat make the label negative (phrases' `negative threat`). The learned label
  // reads the English one's annoyance at a spoiler as negative since tagger 31, so only these two.
  for (const char* text : {"te voy a matar jajaja", "se vc comer meu pudim de novo eu te mato kkkkk"})
    EXPECT_NE(Tag(text).sentiment_label, "negative") << text;
  EXPECT_EQ(Tag("te voy a matar").terms, std::vector<std::string>{"threat"});
  EXPECT_EQ(Tag("kys lol").terms, std::vector<std::string>{"kys"});
  EXPECT_EQ(Tag("go hang yourself lmao").terms, std::vector<std::string>{"self-harm"});
}

TEST_F(TaggerTest, CapsAndExclamationsEmphasise) {
  EXPECT_GT(Score("this is GOOD"), Score("this is good"));
  EXPECT_GT(Score("this is good!!!"), Score("this is good"));
  EXPECT_LT(Score("this is bad!!!"), Score("this is bad"));
  EXPECT_GT(Score("good!!!!!!!!!!"), 0);
  EXPECT_EQ(Score("good!!!!!!!!!!"), Score("good!!!!"));  // emphasis stops at four
}

TEST_F(TaggerTest, StretchedWordsAndIdioms) {
  EXPECT_GT(Score("goooood"), 0.05);
  EXPECT_GT(Score("buenooo"), 0.05);
  EXPECT_GT(Score("esta canción está de puta madre"), 0.05);
  EXPECT_LT(Score("puta madre, se cayó el sistema"), -0.05);
  EXPECT_GT(Score("holy shit this pizza is amazing"), 0.05);
}

TEST_F(TaggerTest, ScoreIsBoundedAndRounded) {
  const double s = Score("AMAZING AMAZING AMAZING love love love 😍😍😍 best best!!!!");
  EXPECT_LE(s, 1.0);
  EXPECT_GT(s, 0.9);
  const double r = Score("good");
  EXPECT_DOUBLE_EQ(r, std::round(r * 1000) / 1000);
}

// --- Language --------------------------------------------------------------------------------

TEST_F(TaggerTest, DetectsLanguage) {
  EXPECT_EQ(Tag("what time is the meeting tomorrow?").lang, "en");
  EXPECT_EQ(Tag("¿a qué hora es la reunión mañana?").lang, "es");
  EXPECT_EQ(Tag("que horas começa a reunião?").lang, "pt");
  EXPECT_EQ(Tag("no me gusta nada").lang, "es");
  EXPECT_EQ(Tag("não gostei do filme").lang, "pt");
  EXPECT_EQ(Tag("I don't like it").lang, "en");
  EXPECT_EQ(Tag("el niño").lang, "es");
  EXPECT_EQ(Tag("você vem?").lang, "pt");
}

// --- Robustness ------------------------------------------------------------------------------

TEST_F(TaggerTest, InvalidUtf8AndOddInputSurvive) {
  const std::vector<std::string> inputs = {
      "",
      "\xFF\xFE\xFD",
      "mierda \xC3",                      // truncated sequence at the end
      "f\xC3\x28uck",                      // bad continuation byte
      "\xED\xA0\x80 surrogate",            // encoded surrogate
      "\xF4\x90\x80\x80 beyond U+10FFFF",  // out of range
      std::string("nul\0inside", 10),
      std::string(100000, 'a'),
      std::string(5000, '*'),
      std::string(3000, '!'),
      "a b c d e f g h i j k l m n o p q r s t u v w x y z",
      "f u c k f u c k f u c k f u c k f u c k",
  };
  for (const std::string& text : inputs) {
    const Tags tags = Tag(text);
    EXPECT_GE(tags.sentiment_score, -1.0);
    EXPECT_LE(tags.sentiment_score, 1.0);
    rapidjson::Document doc;
    doc.Parse(TagsToJson(tags).c_str());
    EXPECT_FALSE(doc.HasParseError()) << "for input of " << text.size() << " bytes";
  }
  EXPECT_EQ(Tag("\xFF mierda \xFE").masked, "\xFF m***** \xFE");  // opaque bytes kept as they were
}

TEST_F(TaggerTest, ThreadsShareOneTagger) {
  const Tags want = Tag("qué mieeerda de servicio, muy malo 😡");
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 2000; ++k) {
        const Tags got = Tag(k % 2 ? "qué mieeerda de servicio, muy malo 😡" : "hello there :)");
        if (k % 2 && (got.masked != want.masked || got.sentiment_score != want.sentiment_score)) ++mismatches[i];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

// --- Output and loading ----------------------------------------------------------------------

TEST_F(TaggerTest, FlaggedMaskedTextReadsWhatTagsToJsonWrote) {
  EXPECT_EQ(FlaggedMaskedText(TagsToJson(Tag("vete a la mierda"))), "vete a la m*****");
  EXPECT_EQ(FlaggedMaskedText(TagsToJson(Tag("hola amigo"))), std::nullopt);
  // Tags from before "masked" was written only when flagged: unflagged, there is nothing masked.
  EXPECT_EQ(FlaggedMaskedText(R"({"profanity":{"flagged":false,"terms":[],"masked":"hola"}})"), std::nullopt);
  EXPECT_EQ(FlaggedMaskedText(R"({"profanity":{"flagged":true}})"), std::nullopt);
  EXPECT_EQ(FlaggedMaskedText("{not json"), std::nullopt);
  EXPECT_EQ(FlaggedMaskedText(""), std::nullopt);
}

TEST_F(TaggerTest, JsonShape) {
  Tags tags;
  tags.lang = "es";
  tags.sentiment_label = "negative";
  tags.sentiment_score = -0.61234;
  tags.profane = true;
  tags.level = Severity::kMild;
  tags.terms = {"mierda"};
  tags.term_levels = {Severity::kMild};
  tags.masked = "qué m*****\n\"ok\"";
  tags.any_masked = true;
  EXPECT_EQ(TagsToJson(tags),
            "{\"lang\":\"es\",\"sentiment\":{\"label\":\"negative\",\"score\":-0.612},"
            "\"profanity\":{\"flagged\":true,\"level\":\"mild\",\"terms\":[\"mierda\"],\"levels\":[\"mild\"],"
            "\"masked\":\"qué m*****\\n\\\"ok\\\"\"}}");
  Tags clean;
  clean.lang = "en";
  clean.sentiment_label = "neutral";
  clean.masked = "hi";
  // Unflagged, the masked text is the text: not repeated.
  EXPECT_EQ(TagsToJson(clean),
            "{\"lang\":\"en\",\"sentiment\":{\"label\":\"neutral\",\"score\":0.0},"
            "\"profanity\":{\"flagged\":false,\"level\":\"none\",\"terms\":[],\"levels\":[]}}");
  // Flagged but nothing masked (a room that masks strong words only, and a mild one): not repeated either.
  Tags unmasked = tags;
  unmasked.any_masked = false;
  unmasked.masked = "qué mierda";
  EXPECT_EQ(TagsToJson(unmasked).find("masked"), std::string::npos);
  tags.masked = "bad \xFF byte";
  const std::string json = TagsToJson(tags);
  EXPECT_NE(json.find("\"masked\":\"bad \xEF\xBF\xBD byte\""), std::string::npos) << json;
}

// A fresh copy of the shipped word lists in the test's temporary folder, for a test to change.
std::string CopyOfTagData(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/" + name;
  std::system(("rm -rf " + dir + " && cp -r " + DefaultTagDataDir() + " " + dir).c_str());
  return dir;
}

TEST(TaggerLoad, MissingDirectoryFailsWithTheFileName) {
  auto loaded = Tagger::Load("/nonexistent/tag/data");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().detail().find("/nonexistent/tag/data/sentiment_en.tsv"), std::string::npos);
}

TEST(TaggerLoad, BadLineFailsWithFileAndLine) {
  const std::string dir = CopyOfTagData("tag_data_bad");
  std::ofstream(dir + "/sentiment_es.tsv") << "# comment\nbueno\t1.9\nmalo\tnine\n";
  auto loaded = Tagger::Load(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().detail().find("sentiment_es.tsv:3"), std::string::npos) << loaded.status().detail();
}

TEST(TaggerLoad, VersionFollowsTheWordListsContents) {
  auto a = Tagger::Load(DefaultTagDataDir());
  auto b = Tagger::Load(DefaultTagDataDir());
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string version = (*a)->version();
  EXPECT_EQ(version.size(), 12u);
  EXPECT_EQ(version.find_first_not_of("0123456789abcdef"), std::string::npos) << version;
  EXPECT_EQ((*b)->version(), version);

  const std::string dir = CopyOfTagData("tag_data_changed");
  std::ofstream(dir + "/profanity_en.txt", std::ios::app) << "mild heck\n";
  auto changed = Tagger::Load(dir);
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_NE((*changed)->version(), version);
  EXPECT_TRUE((*changed)->Analyze("oh heck").profane);  // the version names the lists that tagged
}

// Only the first load of a set of lists trains: the next reads the model it left in the cache.
TEST(TaggerLoad, TheNextLoadReadsTheModelTheFirstTrained) {
  const std::string dir = ::testing::TempDir() + "/learned_cache_tagger";
  std::filesystem::remove_all(dir);
  ::setenv("CHATPIPE_TAG_CACHE", dir.c_str(), 1);
  auto first = Tagger::Load(DefaultTagDataDir());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  std::vector<std::filesystem::path> entries;
  for (const auto& e : std::filesystem::directory_iterator(dir)) entries.push_back(e.path());
  ASSERT_EQ(entries.size(), 1u);
  // Put another model under the same key: a load that reads the cache answers as that model does.
  std::vector<analysis::LabelledMessage> set;
  for (const char* text : {"zorp", "the zorp", "gleb", "the gleb", "quux", "the quux"}) {
    analysis::LabelledMessage m;
    m.text = text;
    m.sentiment = text[0] == 'z' || text[4] == 'z' ? 0 : text[0] == 'g' || text[4] == 'g' ? 1 : 2;
    m.profanity = m.sentiment == 1 ? 2 : 0;  // a gleb is strong
    set.push_back(m);
  }
  analysis::LearnedModel other;
  other.Train(set);
  ASSERT_TRUE(analysis::WriteLearnedCache(dir, entries[0].filename().string(), other));
  auto second = Tagger::Load(DefaultTagDataDir());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)->version(), (*first)->version());
  EXPECT_EQ((*second)->Analyze("zorp").sentiment_label, "positive");
  EXPECT_EQ((*second)->Analyze("gleb").sentiment_label, "negative");
  EXPECT_NE((*first)->Analyze("zorp").sentiment_label, "positive");  // the trained model knows no zorp
  // The lists know no gleb; the profanity head read from the cache finds it strong, the trained one not.
  const Tags gleb = (*second)->Analyze("the gleb again");
  EXPECT_EQ(gleb.level, Severity::kStrong);
  EXPECT_EQ(gleb.terms, std::vector<std::string>{kLearnedTerm});
  EXPECT_EQ(gleb.masked, "t** g*** a****");  // no one word to hide: every word is masked
  EXPECT_FALSE((*first)->Analyze("the gleb again").profane);
  EXPECT_FALSE((*second)->Analyze("the gleb").profane);  // two words are the lists' job
  // Switched off, nothing is read or written.
  ::setenv("CHATPIPE_TAG_CACHE", "off", 1);
  auto third = Tagger::Load(DefaultTagDataDir());
  ::unsetenv("CHATPIPE_TAG_CACHE");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ((*third)->Analyze("zorp").sentiment_label, (*first)->Analyze("zorp").sentiment_label);
}

TEST(TaggerLoad, UnknownLevelFailsWithFileAndLine) {
  const std::string dir = CopyOfTagData("tag_data_level");
  std::ofstream(dir + "/profanity_pt.txt") << "# comment\nmild merda\nrude porra\n";
  auto loaded = Tagger::Load(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().detail().find("profanity_pt.txt:3: unknown level 'rude'"), std::string::npos)
      << loaded.status().detail();
  std::ofstream(dir + "/profanity_pt.txt") << "mild merda\n";
  std::ofstream(dir + "/profanity_phrases.txt") << "strong vou te matar\nsevere no cu\n";
  loaded = Tagger::Load(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().detail().find("profanity_phrases.txt:2: unknown level"), std::string::npos)
      << loaded.status().detail();
  std::ofstream(dir + "/profanity_phrases.txt") << "";
  std::ofstream(dir + "/profanity_pt.txt") << "strong mierda\n";  // mild in profanity_es.txt
  loaded = Tagger::Load(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().detail().find("profanity_pt.txt:1: 'mierda' has another level"), std::string::npos)
      << loaded.status().detail();
}

// Writes contents to dir/file and expects the lists in dir to fail to load, saying detail.
void ExpectLoadFails(const std::string& dir, const std::string& file, const std::string& contents,
                     const std::string& detail) {
  std::ofstream(dir + "/" + file) << contents;
  auto loaded = Tagger::Load(dir);
  ASSERT_FALSE(loaded.ok()) << contents;
  EXPECT_NE(loaded.status().detail().find(detail), std::string::npos) << loaded.status().detail();
}

TEST(TaggerLoad, NamesLinesAreChecked) {
  const std::string dir = CopyOfTagData("tag_data_names");
  ExpectLoadFails(dir, "names.txt", "name Dick sometimes\n", "names.txt:1: want: name Word [mid|any]");
  ExpectLoadFails(dir, "names.txt", "article en\n", "names.txt:1: want: article LANG word...");
  ExpectLoadFails(dir, "names.txt", "cue\n", "names.txt:1: want: cue LANG word...");
  ExpectLoadFails(dir, "names.txt", "word cagado\n", "names.txt:1: word: cagado has no accent to tell it by");
  std::ofstream(dir + "/names.txt") << "name Dick any\ncue en you\narticle en a\n";
  auto loaded = Tagger::Load(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_FALSE((*loaded)->Analyze("ask dick about the drill").profane);
  EXPECT_TRUE((*loaded)->Analyze("you dick").profane);
  EXPECT_TRUE((*loaded)->Analyze("what a massive dick").profane);
}

// An emoji cue the scanner never makes a token of (one not in emoji.tsv) would be dead: refused.
TEST(TaggerLoad, AnEmojiCueMustBeAKnownEmoji) {
  const std::string flying_saucer = "\U0001F6F8";
  ExpectLoadFails(CopyOfTagData("tag_data_emoji_cue"), "senses.txt", "threat haha " + flying_saucer + "\n",
                  "the cue U+1F6F8 is no emoji of emoji.tsv");
}

TEST(TaggerLoad, ClassesMustComeBeforeTheirPhrasesAndBeNamedOnce) {
  const std::string dir = CopyOfTagData("tag_data_classes");
  const auto fails_with = [&](const std::string& phrases, const std::string& detail) {
    ExpectLoadFails(dir, "profanity_phrases.txt", phrases, detail);
  };
  fails_with("strong ill @harm you\nclass harm kill stab\n", "profanity_phrases.txt:1: no class 'harm'");
  fails_with("class harm kill\nclass harm stab\n", "profanity_phrases.txt:2: class 'harm' on an earlier line");
  fails_with("class harm\n", "profanity_phrases.txt:1: want: class NAME word...");
  std::string many;
  for (int c = 0; c <= 128; ++c) many += "class c" + std::to_string(c) + " w" + std::to_string(c) + "\n";
  fails_with(many, "profanity_phrases.txt:129: more than 128 classes");
  fails_with("negative threat\nstrong threat: ill kill you\n",
             "profanity_phrases.txt:1: no term 'threat' on an earlier line");
  // The threat and stalking terms are named, as senses.txt gives them cues.
  std::ofstream(dir + "/profanity_phrases.txt")
      << "class harm kill stab\nstrong threat: ill @harm you\nstrong stalking: i know where you live\n";
  auto loaded = Tagger::Load(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_TRUE((*loaded)->Analyze("ill stab you").profane);
  EXPECT_FALSE((*loaded)->Analyze("ill call you").profane);
}

TEST(TaggerLoad, SensesOfWordsThatAreNoBadWordFailWithFileAndLine) {
  const std::string dir = CopyOfTagData("tag_data_senses");
  std::ofstream(dir + "/senses.txt") << "# comment\nbitch puppies\npuppy kennel\n";
  auto loaded = Tagger::Load(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().detail().find("senses.txt:3: 'puppy' is no base term"), std::string::npos)
      << loaded.status().detail();
  std::ofstream(dir + "/senses.txt") << "bitch puppies\nbitch kennel\n";
  loaded = Tagger::Load(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().detail().find("senses.txt:2: 'bitch' has its cues on an earlier line"), std::string::npos)
      << loaded.status().detail();
}

}  // namespace
}  // namespace chatpipe
