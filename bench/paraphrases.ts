/**
 * A labelled set for the semantic cache: pairs of questions that ask the same thing (paraphrase)
 * or something else with overlapping words (not). Written for this gateway; small on purpose.
 */
export const paraphrasePairs: Array<{ first: string; second: string; paraphrase: boolean }> = [
  { first: "What is the capital of France?", second: "what's the capital of france", paraphrase: true },
  {
    first: "How do I reverse a list in Python?",
    second: "How can I reverse a Python list?",
    paraphrase: true,
  },
  {
    first: "Translate 'good morning' into Spanish.",
    second: "Translate good morning to Spanish",
    paraphrase: true,
  },
  {
    first: "What is the boiling point of water at sea level?",
    second: "At sea level, what is the boiling point of water?",
    paraphrase: true,
  },
  {
    first: "Summarize the plot of Hamlet.",
    second: "Give me a summary of the plot of Hamlet",
    paraphrase: true,
  },
  {
    first: "How many days are in a leap year?",
    second: "How many days does a leap year have?",
    paraphrase: true,
  },
  {
    first: "Convert 100 Fahrenheit to Celsius.",
    second: "What is 100 Fahrenheit in Celsius?",
    paraphrase: true,
  },
  {
    first: "Who wrote Pride and Prejudice?",
    second: "Who is the author of Pride and Prejudice?",
    paraphrase: true,
  },
  { first: "Explain what a hash map is.", second: "Can you explain what a hash map is?", paraphrase: true },
  { first: "What time zone is Tokyo in?", second: "Which time zone is Tokyo in?", paraphrase: true },
  { first: "List three benefits of exercise.", second: "Name three benefits of exercise", paraphrase: true },
  {
    first: "How do I undo the last git commit?",
    second: "How can I undo my last commit in git?",
    paraphrase: true,
  },
  { first: "What is the square root of 144?", second: "square root of 144?", paraphrase: true },
  { first: "Define photosynthesis.", second: "What is photosynthesis?", paraphrase: true },
  {
    first: "Recommend a good book about habits.",
    second: "Suggest a book on building habits",
    paraphrase: true,
  },
  { first: "What is the capital of France?", second: "What is the capital of Germany?", paraphrase: false },
  {
    first: "How do I reverse a list in Python?",
    second: "How do I sort a list in Python?",
    paraphrase: false,
  },
  {
    first: "Translate 'good morning' into Spanish.",
    second: "Translate 'good morning' into Japanese.",
    paraphrase: false,
  },
  {
    first: "What is the boiling point of water at sea level?",
    second: "What is the freezing point of water at sea level?",
    paraphrase: false,
  },
  { first: "Summarize the plot of Hamlet.", second: "Summarize the plot of Macbeth.", paraphrase: false },
  {
    first: "How many days are in a leap year?",
    second: "How many weeks are in a leap year?",
    paraphrase: false,
  },
  {
    first: "Convert 100 Fahrenheit to Celsius.",
    second: "Convert 100 Celsius to Fahrenheit.",
    paraphrase: false,
  },
  {
    first: "Who wrote Pride and Prejudice?",
    second: "When was Pride and Prejudice published?",
    paraphrase: false,
  },
  { first: "Explain what a hash map is.", second: "Explain what a linked list is.", paraphrase: false },
  { first: "What time zone is Tokyo in?", second: "What time is it in Tokyo?", paraphrase: false },
  { first: "List three benefits of exercise.", second: "List three risks of exercise.", paraphrase: false },
  {
    first: "How do I undo the last git commit?",
    second: "How do I amend the last git commit?",
    paraphrase: false,
  },
  { first: "What is the square root of 144?", second: "What is the square of 144?", paraphrase: false },
  { first: "Define photosynthesis.", second: "Define respiration.", paraphrase: false },
  {
    first: "Recommend a good book about habits.",
    second: "Recommend a good film about habits.",
    paraphrase: false,
  },
];
