#include "analysis/sentiment.h"

#include <gtest/gtest.h>

#include <string_view>
#include <utility>
#include <vector>

#include "analysis/test_lexicon.h"

namespace chatpipe::analysis {
namespace {

double Score(std::string_view text, int lang, bool ambiguous = false) {
  Scratch s;
  const ScanStats st = testing::Tokenise(text, &s);
  return Sentiment(testing::Lists().lexicon, &s, st, lang, ambiguous);
}

TEST(Sentiment, ValenceNegationAndBoosters) {
  EXPECT_GT(Score("good", kEn), kNeutralBand);
  EXPECT_LT(Score("not good", kEn), -kNeutralBand);
  EXPECT_GT(Score("very good", kEn), Score("good", kEn));
  EXPECT_GT(Score("no está mal", kEs), kNeutralBand);
  EXPECT_EQ(Score("the meeting is at 5", kEn), 0);
}

TEST(Sentiment, ContrastIdiomsAndEmphasis) {
  EXPECT_LT(Score("the food was great but the service was terrible", kEn), -kNeutralBand);
  EXPECT_GT(Score("esta canción está de puta madre", kEs), kNeutralBand);
  EXPECT_GT(Score("good!!!", kEn), Score("good", kEn));
  EXPECT_GT(Score("this is GOOD", kEn), Score("this is good", kEn));
  EXPECT_GT(Score("😂", kEn), kNeutralBand);
}

TEST(Sentiment, ALanguageGuessMayBorrowValence) {
  // "bueno" has a valence in Spanish only: read as English it counts only when English is a guess.
  EXPECT_EQ(Score("bueno", kEn, false), 0);
  EXPECT_GT(Score("bueno", kEn, true), kNeutralBand);
}

TEST(Sentiment, AQuestionKeepsOnlyAClearFeeling) {
  EXPECT_EQ(Score("is the new place good?", kEn), 0);
  EXPECT_EQ(Score("¿a qué hora es la reunión?", kEs), 0);
  EXPECT_EQ(Score("olá, está tudo bem contigo?", kPt), 0);
  EXPECT_EQ(Score("alguém sabe se tem aula amanhã?", kPt), 0);
  EXPECT_LT(Score("why does this always break?? so annoying", kEn), -kNeutralBand);  // a sentence of its own
  EXPECT_GT(Score("do you love it?", kEn), kNeutralBand);  // "love" is a clear feeling
  EXPECT_GT(Score("is the new place good", kEn), kNeutralBand);  // no '?', no question
}

TEST(Sentiment, SwearingDoesNotDecideTheFeeling) {
  EXPECT_GT(Score("fucking amazing", kEn), kNeutralBand);
  EXPECT_GT(Score("cabrón, te quedó increíble el tatuaje", kEs), kNeutralBand);
  EXPECT_GT(Score("damn that's a nice car", kEn), kNeutralBand);
  EXPECT_EQ(Score("fuck, is the meeting at 2 or 3?", kEn), 0);
  EXPECT_EQ(Score("hdp, ¿a qué hora llegás?", kEs), 0);
  EXPECT_EQ(Score("porra, alguém sabe se a aula de hoje vai ter?", kPt), 0);
  EXPECT_EQ(Score("where the fuck did i put my charger", kEn), 0);  // a question without its '?'
  EXPECT_LT(Score("why the hell does it always rain on my day off", kEn), -kNeutralBand);
  // Alone, swearing is the feeling; used as a predicate it is a judgement.
  EXPECT_LT(Score("conchetumare, se quemó el arroz", kEs), -kNeutralBand);
  EXPECT_LT(Score("qué mierda", kEs), -kNeutralBand);
  EXPECT_LT(Score("que merda", kPt), -kNeutralBand);
  EXPECT_LT(Score("this is shit", kEn), -kNeutralBand);
  EXPECT_GT(Score("this song is the shit", kEn), kNeutralBand);
  // An idiom is said on purpose, even one that opens with a bad word.
  EXPECT_LT(Score("essa droga de reunião, adorei o café", kPt), Score("adorei o café", kPt));
}

TEST(Sentiment, ABoosterAfterItsWordBoostsIt) {
  EXPECT_GT(Score("lindo demais", kPt), Score("lindo", kPt));
  EXPECT_LT(Score("ruim demais", kPt), Score("ruim", kPt));  // not cancelled by the praise "demais" is alone
  EXPECT_GT(Score("gostei muito", kPt), Score("gostei", kPt));
  EXPECT_LT(Score("está bien feo", kEs), -kNeutralBand);  // "bien" only boosts here
  EXPECT_GT(Score("bien", kEs), kNeutralBand);
}

TEST(Sentiment, NegationReachesFourWordsBackButNotPastAContrast) {
  EXPECT_LT(Score("no creo que sea bueno", kEs), -kNeutralBand);
  EXPECT_LT(Score("não acho que seja bom", kPt), -kNeutralBand);
  EXPECT_GT(Score("no fui pero estuvo bueno", kEs), kNeutralBand);
  EXPECT_GT(Score("not me, it was a really good one", kEn), kNeutralBand);  // a clause apart
  EXPECT_LT(Score("nada a ver essa porra", kPt), -kNeutralBand);  // swearing is negated only right after
  EXPECT_GT(Score("it's not shit at all", kEn), kNeutralBand);
}

TEST(Sentiment, NegationAndRegionalSlang) {
  const std::vector<std::pair<std::string_view, int>> cases = {
      {"no me gustó para nada", kEs}, {"no está nada mal", kEs}, {"nada mal", kEs},
      {"no es tan malo", kEs},        {"ni tan bueno", kEs},     {"não gostei nem um pouco", kPt},
      {"não é ruim", kPt},            {"nem é tão bom", kPt},    {"not bad at all", kEn},
      {"not that great", kEn},
  };
  const std::vector<int> signs = {-1, 1, 1, 1, -1, -1, 1, -1, 1, -1};
  for (size_t k = 0; k < cases.size(); ++k) {
    const double s = Score(cases[k].first, cases[k].second);
    EXPECT_TRUE(signs[k] > 0 ? s > kNeutralBand : s < -kNeutralBand) << cases[k].first << " " << s;
  }
  for (std::string_view text : {"qué bacán", "la fiesta estuvo la raja", "re copado", "qué chido", "está chingón",
                                "qué chévere", "qué bacano", "muy guay", "mola mucho", "qué padre"})
    EXPECT_GT(Score(text, kEs), kNeutralBand) << text;
  for (std::string_view text : {"qué fome", "qué lata", "es súper penca", "un garrón", "qué oso", "muy chungo",
                                "qué cutre", "qué rollo de examen"})
    EXPECT_LT(Score(text, kEs), -kNeutralBand) << text;
  for (std::string_view text : {"muito massa", "que daora", "bué da fixe", "mó legal", "o jantar foi porreiro"})
    EXPECT_GT(Score(text, kPt), kNeutralBand) << text;
  EXPECT_GT(Score("é altamente recomendável", kPt), Score("é recomendável", kPt));
  for (std::string_view text : {"que seca", "tá zoado", "estou lixado", "isso é chato", "uma merda", "deu ruim",
                                "nada dá certo pra mim"})
    EXPECT_LT(Score(text, kPt), -kNeutralBand) << text;
  for (std::string_view text : {"this slaps", "goated", "the new album is fire"})
    EXPECT_GT(Score(text, kEn), kNeutralBand) << text;
  for (std::string_view text : {"kinda mid", "ugh", "kill yourself"}) EXPECT_LT(Score(text, kEn), -kNeutralBand) << text;
}

TEST(Sentiment, GreetingsAndLookAlikesAreNeutral) {
  EXPECT_EQ(Score("buenos días a todos", kEs), 0);
  EXPECT_EQ(Score("bom dia", kPt), 0);
  EXPECT_EQ(Score("good morning everyone", kEn), 0);
  EXPECT_GT(Score("buenas noticias", kEs), kNeutralBand);
  // Words with a double letter are no stretched spelling of another word: "carro" is not "caro", "he'll"
  // is not "hell", "perro" is not "pero" (a contrast).
  EXPECT_EQ(Score("tu carro nuevo", kEs), 0);
  EXPECT_EQ(Score("he'll be late", kEn), 0);
  EXPECT_EQ(Score("feo perro lindo", kEs), Score("feo lindo", kEs));
  EXPECT_NE(Score("feo pero lindo", kEs), Score("feo lindo", kEs));
  EXPECT_LT(Score("tô fodido, esqueci o trabalho", kPt), -kNeutralBand);  // "screwed", not "foda" (awesome)
}

TEST(Sentiment, EmojiAndEmoticonsAlone) {
  for (std::string_view text : {"❤️❤️", "😍", "🥰", "🙌", "🔥🔥", "👏", "<3", "xD", ":v", "😂😂"})
    EXPECT_GT(Score(text, kEn), kNeutralBand) << text;
  for (std::string_view text : {"😭😭", "😢", "😡", "🤬", "🙄", "👎", ":(", ":'(", "-_-"})
    EXPECT_LT(Score(text, kEn), -kNeutralBand) << text;
  EXPECT_EQ(Score("🤔", kEn), 0);
  EXPECT_GT(Score("😍😍😍", kEn), Score("😍", kEn));
}

TEST(Sentiment, ScoreStaysInRange) {
  const double s = Score("AMAZING AMAZING AMAZING love love love best best!!!!", kEn);
  EXPECT_GT(s, 0.9);
  EXPECT_LE(s, 1.0);
}

}  // namespace
}  // namespace chatpipe::analysis
